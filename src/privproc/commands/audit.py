"""``privproc audit --url URL [--node NODE_URL ...]``: fetch a ledger, verify it offline,
then (``--node``) ask each node for interactive attestation.

``--node``: the auditor sends a fresh random nonce (``GET /attestation?nonce=``), and
verifies the answer with :func:`privproc.client.verify.verify_attestation` against the
entries the audit just re-derived: the release whose measurement the node advertises
gives the policy, the evidence chains to the config's trusted roots (pinned vendor roots,
or the test trust store when the config turns it on) and carries the nonce, so it was
made after the auditor asked; for a ``+nvidia-cc`` release the node's GPU report is
checked as the device checks it, and the model the node names must be the release's
(``release.model``). It needs a client config (``--config`` or
``$PRIVPROC_HOME/client/config.json``) for the roots and the publisher key.

What it can prove depends on what it is told to trust. The log key, the witness
keys and the publisher key come from flags or from a client config (``--config``;
by default ``$PRIVPROC_HOME/client/config.json``, which ``privproc up`` writes, when
it exists). A log key fetched from the log itself proves only that the log is
internally consistent, not that it is the log devices trust: the audit says so, and
``--strict`` refuses (exit 1) unless the log, witness and publisher keys are pinned.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from privproc.ledger.audit import AuditReport
    from privproc.ledger.note import Ed25519Verifier, NoteVerifier

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``audit`` command."""

    @app.command()
    def audit(
        *,
        url: Annotated[str, typer.Option(help="The ledger's URL.")],
        log_key: Annotated[
            str | None, typer.Option(help="The log's vkey (default: fetched, trust on first use).")
        ] = None,
        witness: Annotated[
            list[str] | None, typer.Option(help="A witness cosignature vkey to check (repeat).")
        ] = None,
        publisher: Annotated[
            str | None, typer.Option(help="The publisher's vkey: check every record's signature.")
        ] = None,
        follow: Annotated[
            bool, typer.Option(help="Keep watching; check each new checkpoint.")
        ] = False,
        interval: Annotated[float, typer.Option(help="Seconds between polls with --follow.")] = 2.0,
        rounds: Annotated[
            int, typer.Option(help="With --follow, stop after N checkpoints (0: never).")
        ] = 0,
        config: Annotated[
            Path | None,
            typer.Option(
                help="A client config to take the pinned keys from"
                " (default: $PRIVPROC_HOME/client/config.json if it exists)."
            ),
        ] = None,
        strict: Annotated[
            bool,
            typer.Option(help="Fail unless the log, witness and publisher keys are pinned."),
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
        node: Annotated[
            list[str] | None,
            typer.Option(help="A node URL: verify its interactive attestation (repeat)."),
        ] = None,
    ) -> None:
        """Re-derive every tile and the root from the entries; check every signature
        and the key-consistency rule."""
        from privproc.errors import VerificationError

        pins = _pins(config, log_key, witness or [], publisher)
        try:
            if strict:
                pins.refuse_unpinned()
            _loop(
                client_url=url,
                pins=pins,
                follow=follow,
                interval=interval,
                rounds=rounds,
                as_json=as_json,
                nodes=node or [],
                config=config,
            )
        except VerificationError as exc:
            if not as_json:
                raise
            typer.echo(json.dumps({"ok": False, "check": exc.check, "error": str(exc)}))
            raise typer.Exit(1) from None


@dataclass(frozen=True, slots=True)
class _Pins:
    """What the auditor trusts, and where each key came from."""

    log_key: str | None
    witnesses: tuple[NoteVerifier, ...]
    quorum: int | None
    publisher: Ed25519Verifier | None
    announce_delay: int
    source: str

    def missing(self) -> list[str]:
        names = [("log key", self.log_key), ("publisher key", self.publisher)]
        out = [n for n, v in names if v is None]
        return out if self.witnesses else [*out, "witness keys"]

    def refuse_unpinned(self) -> None:
        """``--strict``: VerificationError ``audit.unpinned`` unless every key is pinned."""
        from privproc.errors import VerificationError

        if self.missing():
            raise VerificationError(
                "audit.unpinned",
                f"--strict: no pinned {', '.join(self.missing())}; pass them or --config",
            )

    def trust(self) -> str:
        if self.log_key is None:
            return "consistency only: the log key was fetched from the log itself (not pinned)"
        return f"pinned ({self.source})"


def _pins(
    config: Path | None, log_key: str | None, witness: list[str], publisher: str | None
) -> _Pins:
    """Flags win over the config; the config's cosignature max age plus skew is ``D``."""
    from privproc._home import default_home
    from privproc.client.config import ClientConfig
    from privproc.errors import ConfigError
    from privproc.ledger.cosignature import verifier_from_vkey
    from privproc.ledger.note import Ed25519Verifier

    path = config
    if path is None and (default_home() / "client" / "config.json").is_file():
        path = default_home() / "client" / "config.json"
    loaded = None if path is None else ClientConfig.load(path)
    vkeys = witness or ([] if loaded is None else list(loaded.witness_vkeys))
    pub_vkey = publisher or (None if loaded is None else loaded.publisher_vkey)
    pub: Ed25519Verifier | None = None
    if pub_vkey is not None:
        v = verifier_from_vkey(pub_vkey)
        if not isinstance(v, Ed25519Verifier):
            raise ConfigError("the publisher key must be an Ed25519 (type 0x01) vkey")
        pub = v
    return _Pins(
        log_key=log_key or (None if loaded is None else loaded.log_vkey),
        witnesses=tuple(verifier_from_vkey(v) for v in vkeys),
        quorum=None if loaded is None or witness else loaded.quorum,
        publisher=pub,
        announce_delay=900
        if loaded is None
        else loaded.cosignature_max_age + loaded.cosignature_max_skew,
        source="flags" if path is None else f"flags and {path}",
    )


def _loop(
    *,
    client_url: str,
    pins: _Pins,
    follow: bool,
    interval: float,
    rounds: int,
    as_json: bool,
    nodes: list[str] | None = None,
    config: Path | None = None,
) -> None:
    from privproc.ledger.audit import audit_log
    from privproc.ledger.checkpoint import Checkpoint
    from privproc.ledger.cosignature import verifier_from_vkey
    from privproc.ledger.note import Note
    from privproc.ledger.tiles import TileRef
    from privproc.ledger_service.client import LedgerClient

    cache: dict[TileRef, bytes] = {}
    previous: Checkpoint | None = None
    done = 0
    with LedgerClient(client_url) as client:
        log = verifier_from_vkey(pins.log_key or client.vkey())
        while True:
            note = client.checkpoint()
            size = Checkpoint.parse(Note.decode(note).text).size
            if previous is None or size != previous.size:
                tiles = client.fetch_tiles(size, cache)
                report = audit_log(
                    note,
                    log,
                    tiles,
                    witnesses=pins.witnesses,
                    publisher=pins.publisher,
                    previous=previous,
                    announcements=client.witnessed,
                    announce_delay=pins.announce_delay,
                    quorum=pins.quorum,
                )
                _show(report, pins, as_json=as_json)
                if nodes:
                    _attest_nodes(nodes, report.entries, config, as_json=as_json)
                previous = Checkpoint(report.origin, report.size, report.root_hash)
                done += 1
            if not follow or (rounds and done >= rounds):
                return
            time.sleep(interval)


def _attest_nodes(
    urls: list[str], entries: tuple[bytes, ...], config: Path | None, *, as_json: bool
) -> None:
    """``--node``: a fresh nonce to each node, its answer verified offline."""
    import os
    from datetime import UTC, datetime

    import httpx

    from privproc._home import default_home
    from privproc.client.config import ClientConfig
    from privproc.client.verify import Trust, verify_attestation
    from privproc.errors import ConfigError, RemoteError

    path = config or default_home() / "client" / "config.json"
    if not path.is_file():
        raise ConfigError("--node needs a client config (--config) for roots and keys")
    trust = Trust.from_config(ClientConfig.load(path))
    for url in urls:
        nonce = os.urandom(32)
        try:
            r = httpx.get(url.rstrip("/") + "/attestation", params={"nonce": nonce.hex()})
        except httpx.HTTPError:
            raise RemoteError(f"node {url} unreachable", status=0) from None
        if r.status_code != 200:
            raise RemoteError(f"node {url} refused the attestation", status=r.status_code)
        node = verify_attestation(
            r.content, nonce=nonce, entries=entries, trust=trust, now=datetime.now(UTC)
        )
        v = node.verified
        fields = {
            "node": node.node,
            "url": url,
            "platform": node.release.platform,
            "release_index": node.release_index,
            "measurement": v.measurement.hex(),
            "tcb": None if v.tcb is None else str(v.tcb),
            "nonce": nonce.hex(),
            "checks": list(v.checks),
            "gpu_checks": list(node.gpu_checks),
            "model_digest": node.model_digest.hex(),
        }
        if as_json:
            typer.echo(json.dumps({"ok": True, "attestation": fields}))
        else:
            typer.echo(
                f"node {node.node} ({url}): attested {node.release.platform}, release at index"
                f" {node.release_index}, fresh for nonce {nonce.hex()[:16]}...;"
                f" checks: {', '.join(v.checks)}"
                + (f"; GPU: {', '.join(node.gpu_checks)}" if node.gpu_checks else "")
                + f"; model sha256 {node.model_digest.hex()[:16]}... (the release's)"
            )


def _show(report: AuditReport, pins: _Pins, *, as_json: bool) -> None:
    if as_json:
        extra = {"trust": pins.trust(), "unpinned": pins.missing()}
        typer.echo(json.dumps({"ok": True, **report.as_dict(), **extra}))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"audit of {report.origin}")
    table.add_column("check")
    table.add_column("result")
    table.add_row("trust", pins.trust())
    if pins.missing():
        table.add_row("not pinned", ", ".join(pins.missing()))
    table.add_row("tree size", str(report.size))
    table.add_row("root hash", report.root_hash.hex())
    table.add_row("log signature", "ok")
    cos = ", ".join(f"{n} @ {t}" for n, t in report.cosigners) or "none known"
    table.add_row("witness cosignatures", cos)
    table.add_row("tiles + bundles re-derived", f"{report.tiles_checked} ok")
    table.add_row("root re-derived from entries", "ok")
    recs = ", ".join(f"{k}: {v}" for k, v in report.records) or "none"
    table.add_row("records", recs)
    table.add_row("other entries", str(report.opaque_entries))
    table.add_row("record signatures checked", str(report.signatures_checked))
    table.add_row(f"key-consistency rule ({report.key_configs} configs)", report.key_rule)
    for index, kind, target in report.revocations:
        table.add_row(f"revocation (entry {index})", f"{kind} {target}")
    if report.consistent_with is not None:
        table.add_row("consistent with size", str(report.consistent_with))
    Console().print(table)
