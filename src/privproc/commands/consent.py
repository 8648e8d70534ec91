"""``privproc consent ...``: the consent service, one-step objection, and the training export.

Every command works either against a running service (``--url``, with a bearer
``--token``: the account's secret, or the operator's) or directly on a store
(``--consent-db PATH`` or a ``postgresql://`` URL; by default the SQLite file under
``$PRIVPROC_HOME/consent/``).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from privproc.errors import ConfigError

if TYPE_CHECKING:
    from privproc.consent.events import ConsentEvent
    from privproc.consent.receipt import Receipt
    from privproc.consent.regions import RegionPolicy
    from privproc.consent.store import ConsentStore
    from privproc.consent_service.client import ConsentClient
    from privproc.consent_service.home import ConsentHome


class _Default(StrEnum):
    granted = "granted"
    refused = "refused"


_URL = typer.Option(None, "--url", help="A running consent service.")
_TOKEN = typer.Option(
    None,
    "--token",
    envvar="PRIVPROC_CONSENT_TOKEN",
    help="Bearer secret for --url: the account's, or the operator's (default: the operator's "
    "token under --home).",
)
_DB = typer.Option(None, "--consent-db", help="A consent store: SQLite file or postgresql:// URL.")
_HOME = typer.Option(None, "--home", help="PRIVPROC_HOME (state goes in its consent/ folder).")
_RECEIPT = typer.Option(..., "--receipt", help="A receipt (JSON).")
_IN = typer.Option(..., "--in", help="Content records, JSON lines.")
_OUT = typer.Option(..., "--out", help="Where the eligible records go.")
_JSON = typer.Option(False, "--json", help="Print machine-readable JSON.")
_DEFAULT = typer.Option(
    _Default.granted,
    "--default-elsewhere",
    help="What an unset account counts as outside the regions that require asking.",
)


def _home(home: Path | None) -> ConsentHome:
    from privproc.consent_service.home import ConsentHome

    return ConsentHome.at(home)


def _store(db: str | None, home: Path | None, *, existing: bool = False) -> ConsentStore:
    """Open the store; with ``existing``, refuse to create a SQLite file (a typo in a
    path would otherwise give an empty store, and an export that excludes everyone)."""
    from privproc.consent_service.stores import open_store

    target = db or str(_home(home).database)
    if existing and "://" not in target and not Path(target).is_file():
        raise ConfigError(f"no consent store at {target}")
    return open_store(target)


@contextmanager
def _opened(db: str | None, home: Path | None, *, existing: bool = False) -> Iterator[ConsentStore]:
    """:func:`_store`, closed when the block ends."""
    store = _store(db, home, existing=existing)
    try:
        yield store
    finally:
        store.close()


def _home_public_key(home: Path | None) -> bytes:
    """The receipt public key of the service whose state is under ``home``."""
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    signing = _home(home).signing_key()
    return signing.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _client(url: str, token: str | None, home: Path | None) -> ConsentClient:
    from privproc.consent_service.client import ConsentClient

    return ConsentClient(url, token or _home(home).admin_token(create=False))


def _policy(default: _Default) -> RegionPolicy:
    from privproc.consent.events import ConsentState
    from privproc.consent.regions import RegionPolicy

    return RegionPolicy(default_elsewhere=ConsentState(default.value))


def _print_change(event: ConsentEvent, receipt: Receipt, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"event": event.to_json(), "receipt": receipt.to_json()}))
        return
    typer.echo(f"{event.account}: {event.state.value} (event {event.seq}, {receipt.time})")
    typer.echo(json.dumps(receipt.to_json()))


def serve(
    *,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8090, help="Port to listen on."),
    home: Path | None = _HOME,
    database_url: str | None = typer.Option(
        None, "--database-url", help="postgresql://... (default: SQLite under --home)."
    ),
    default_elsewhere: _Default = _DEFAULT,
) -> None:
    """Run the consent service."""
    from privproc._http import serve as run
    from privproc.consent_service.app import create_app

    folder = _home(home)
    store = _store(database_url, home)
    app_ = create_app(
        store,
        folder.signing_key(),
        admin_token=folder.admin_token(),
        policy=_policy(default_elsewhere),
    )
    try:
        run(app_, host, port)
    finally:
        store.close()


def register_account(
    *,
    account: str = typer.Option(..., help="The account id."),
    region: str = typer.Option(..., help="ISO 3166-1 alpha-2 code; ZZ if unknown."),
    url: str | None = _URL,
    token: str | None = _TOKEN,
    db: str | None = _DB,
    home: Path | None = _HOME,
    as_json: bool = _JSON,
) -> None:
    """Register an account (operator); prints its bearer secret, once."""
    if url:
        with _client(url, token, home) as client:
            reg = client.register(account, region)
        event, secret = reg.event, reg.secret
    else:
        from privproc.consent_service.app import hash_secret
        from privproc.consent_service.home import new_secret

        secret = new_secret()
        with _opened(db, home) as store:
            event = store.register(account, region, hash_secret(secret), datetime.now(UTC))
    if as_json:
        typer.echo(json.dumps({"event": event.to_json(), "secret": secret}))
    else:
        typer.echo(f"{account} registered ({region}); its secret (shown once): {secret}")


def _change(
    state_name: str,
    *, account: str | None, url: str | None, token: str | None,
    db: str | None, home: Path | None, as_json: bool,
) -> None:  # fmt: skip
    from privproc.consent.events import ConsentState, check_account
    from privproc.consent.receipt import issue_receipt

    state = ConsentState(state_name)
    if url:
        with _client(url, token, home) as client:
            if state is ConsentState.REFUSED and account is None:
                event, receipt = client.object()
            elif account is None:
                raise ConfigError("--account is required to grant")
            else:
                event, receipt = client.change(account, state)
    else:
        if account is None:
            raise ConfigError("--account is required without --url")
        source = "objection" if state is ConsentState.REFUSED else "operator"
        with _opened(db, home) as store:
            event = store.change(check_account(account), state, source, datetime.now(UTC))
        receipt = issue_receipt(event, _home(home).signing_key())
    _print_change(event, receipt, as_json)


def refuse(
    *,
    account: str | None = typer.Option(
        None, help="The account (not needed with --url and the account's own --token)."
    ),
    url: str | None = _URL,
    token: str | None = _TOKEN,
    db: str | None = _DB,
    home: Path | None = _HOME,
    as_json: bool = _JSON,
) -> None:
    """Object: refuse the use of the account's content for training, at once; prints a receipt."""
    _change("refused", account=account, url=url, token=token, db=db, home=home, as_json=as_json)


def grant(
    *,
    account: str = typer.Option(..., help="The account."),
    url: str | None = _URL,
    token: str | None = _TOKEN,
    db: str | None = _DB,
    home: Path | None = _HOME,
    as_json: bool = _JSON,
) -> None:
    """Grant the use of the account's public content for training; prints a receipt."""
    _change("granted", account=account, url=url, token=token, db=db, home=home, as_json=as_json)


def history(
    *,
    account: str = typer.Option(..., help="The account."),
    url: str | None = _URL,
    token: str | None = _TOKEN,
    db: str | None = _DB,
    home: Path | None = _HOME,
    as_json: bool = _JSON,
) -> None:
    """Print and audit an account's history (fails if the hash chain is broken)."""
    from privproc.consent.events import verify_chain

    if url:
        with _client(url, token, home) as client:
            events = client.history(account)
    else:
        with _opened(db, home, existing=True) as store:
            events = store.history(account)
    verify_chain(events, account=account)
    if as_json:
        typer.echo(json.dumps({"account": account, "verified": True,
                               "events": [e.to_json() for e in events]}))  # fmt: skip
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"consent history of {account} (hash chain verified)")
    for col in ("seq", "time", "state", "source", "region", "hash"):
        table.add_column(col)
    for e in events:
        row = e.to_json()
        table.add_row(str(e.seq), str(row["time"]), e.state.value, e.source, e.region,
                      e.hash[:16])  # fmt: skip
    Console().print(table)


def status(
    *,
    account: str = typer.Option(..., help="The account."),
    url: str | None = _URL,
    token: str | None = _TOKEN,
    db: str | None = _DB,
    home: Path | None = _HOME,
    default_elsewhere: _Default = _DEFAULT,
) -> None:
    """Print an account's consent now (JSON)."""
    if url:
        with _client(url, token, home) as client:
            typer.echo(json.dumps(client.status(account)))
        return
    from privproc.consent_service.app import status_json
    from privproc.errors import NotFoundError

    with _opened(db, home, existing=True) as store:
        found = store.status(account)
    if found is None:
        raise NotFoundError("no such account")
    typer.echo(json.dumps(status_json(found, _policy(default_elsewhere))))


def audit(
    *,
    db: str | None = _DB,
    home: Path | None = _HOME,
    as_json: bool = _JSON,
) -> None:
    """Audit every account's hash chain and status in a store; names the first failure."""
    from privproc.consent.audit import audit_store

    with _opened(db, home, existing=True) as store:
        report = audit_store(store)
    if as_json:
        typer.echo(json.dumps({"verified": True, "accounts": report.accounts,
                               "events": report.events}))  # fmt: skip
    else:
        typer.echo(f"audit passed: {report.accounts:,} accounts, {report.events:,} events")


def key(
    *,
    url: str | None = _URL,
    home: Path | None = _HOME,
) -> None:
    """Print the service's receipt public key (Ed25519, raw, base64url)."""
    from privproc.consent.receipt import b64url
    from privproc.consent_service.client import ConsentClient

    if url:
        with ConsentClient(url) as client:
            public = client.public_key()
    else:
        public = _home_public_key(home)
    typer.echo(b64url(public))


def verify_receipt_cmd(
    *,
    receipt_file: Path = _RECEIPT,
    key: str | None = typer.Option(None, help="The service's public key (base64url)."),
    url: str | None = _URL,
    home: Path | None = _HOME,
) -> None:
    """Check a receipt's signature against the service's key (--key, --url, or --home's)."""
    from privproc.consent.receipt import Receipt, unb64url, verify_receipt
    from privproc.consent_service.client import ConsentClient

    try:
        raw = json.loads(receipt_file.read_bytes())
    except (OSError, ValueError):
        raise ConfigError(f"{receipt_file}: not a readable JSON receipt") from None
    receipt = Receipt.from_json(raw.get("receipt", raw) if isinstance(raw, dict) else raw)
    if key:
        public = unb64url(key, "key")
    elif url:
        with ConsentClient(url) as client:
            public = client.public_key()
    else:
        public = _home_public_key(home)
    verify_receipt(receipt, public)
    typer.echo(f"receipt verified: {receipt.account} {receipt.state.value} "
               f"(event {receipt.seq}, {receipt.time})")  # fmt: skip


def export(
    *,
    in_path: Path = _IN,
    out_path: Path = _OUT,
    db: str | None = _DB,
    url: str | None = _URL,
    token: str | None = _TOKEN,
    home: Path | None = _HOME,
    default_elsewhere: _Default = _DEFAULT,
    as_json: bool = _JSON,
) -> None:
    """Write only the records eligible for training; report what was excluded, by rule."""
    from privproc.consent.export import Exporter
    from privproc.consent.files import iter_lines

    closer: ConsentClient | ConsentStore
    if url:
        client = _client(url, token, home)
        closer, lookup = client, client.lookup
    else:
        store = _store(db, home, existing=True)
        closer, lookup = store, store.statuses
    exporter = Exporter(lookup, _policy(default_elsewhere))
    tmp = out_path.with_name(out_path.name + ".partial")
    try:
        with in_path.open("rb") as src, tmp.open("wb") as dst:
            for line in exporter.filter(iter_lines(src)):
                dst.write(line)
        tmp.replace(out_path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ConfigError(f"export: {exc.strerror or type(exc).__name__}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        closer.close()
    report = exporter.report()
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    from rich.console import Console
    from rich.table import Table

    from privproc.consent.rules import MALFORMED, RULES

    meanings = {MALFORMED: "not a valid content record"}
    meanings.update({rule.name: rule.meaning for rule in RULES})
    table = Table(title=f"training export: {report.written:,} of {report.read:,} written")
    table.add_column("rule")
    table.add_column("excluded (first failed)", justify="right")
    table.add_column("failed (any)", justify="right")
    table.add_column("the rule")
    for name, count in report.excluded.items():
        table.add_row(name, f"{count:,}", f"{report.failed[name]:,}", meanings[name])
    Console(file=sys.stdout).print(table)


def register(app: typer.Typer) -> None:
    """Add the ``consent`` command group."""
    consent = typer.Typer(
        name="consent",
        help="Data-use consent: record, object, and export only eligible training data.",
        no_args_is_help=True,
    )
    consent.command()(serve)
    consent.command("register")(register_account)
    consent.command()(refuse)
    consent.command()(grant)
    consent.command()(history)
    consent.command()(status)
    consent.command()(audit)
    consent.command()(key)
    consent.command("verify-receipt")(verify_receipt_cmd)
    consent.command()(export)
    app.add_typer(consent)
