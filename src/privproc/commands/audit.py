"""``privproc audit --url URL``: fetch a ledger, then verify it offline."""

from __future__ import annotations

import json
import time
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
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    ) -> None:
        """Re-derive every tile and the root from the entries; check every signature."""
        from privproc.errors import ConfigError, VerificationError
        from privproc.ledger.cosignature import verifier_from_vkey
        from privproc.ledger.note import Ed25519Verifier

        witnesses = [verifier_from_vkey(v) for v in witness or ()]
        pub: Ed25519Verifier | None = None
        if publisher is not None:
            v = verifier_from_vkey(publisher)
            if not isinstance(v, Ed25519Verifier):
                raise ConfigError("--publisher must be an Ed25519 (type 0x01) vkey")
            pub = v

        try:
            _loop(
                client_url=url,
                log_key=log_key,
                witnesses=witnesses,
                pub=pub,
                follow=follow,
                interval=interval,
                rounds=rounds,
                as_json=as_json,
            )
        except VerificationError as exc:
            if not as_json:
                raise
            typer.echo(json.dumps({"ok": False, "check": exc.check, "error": str(exc)}))
            raise typer.Exit(1) from None


def _loop(
    *,
    client_url: str,
    log_key: str | None,
    witnesses: list[NoteVerifier],
    pub: Ed25519Verifier | None,
    follow: bool,
    interval: float,
    rounds: int,
    as_json: bool,
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
        log = verifier_from_vkey(log_key or client.vkey())
        while True:
            note = client.checkpoint()
            size = Checkpoint.parse(Note.decode(note).text).size
            if previous is None or size != previous.size:
                tiles = client.fetch_tiles(size, cache)
                report = audit_log(
                    note, log, tiles, witnesses=witnesses, publisher=pub, previous=previous
                )
                _show(report, as_json=as_json)
                previous = Checkpoint(report.origin, report.size, report.root_hash)
                done += 1
            if not follow or (rounds and done >= rounds):
                return
            time.sleep(interval)


def _show(report: AuditReport, *, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps({"ok": True, **report.as_dict()}))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"audit of {report.origin}")
    table.add_column("check")
    table.add_column("result")
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
    for index, kind, target in report.revocations:
        table.add_row(f"revocation (entry {index})", f"{kind} {target}")
    if report.consistent_with is not None:
        table.add_row("consistent with size", str(report.consistent_with))
    Console().print(table)
