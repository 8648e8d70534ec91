"""``privproc ledger serve|add|key``: the transparency ledger."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def _home(home: Path | None, party: str) -> Path:
    from privproc._home import party_home

    return party_home(home, party)


_Home = Annotated[Path | None, typer.Option(help="State folder (default $PRIVPROC_HOME/ledger).")]
_Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
_Url = Annotated[str, typer.Option(help="The ledger's URL.")]


def register(app: typer.Typer) -> None:
    """Add the ``ledger`` command group."""
    group = typer.Typer(help="The witnessed transparency ledger (C2SP tlog-tiles).")
    app.add_typer(group, name="ledger")

    @group.command()
    def serve(
        *,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8700,
        home: _Home = None,
        origin: Annotated[
            str, typer.Option(help="Checkpoint origin and log key name.")
        ] = "privproc.local/ledger",
        witness: Annotated[
            list[str] | None, typer.Option(help="Witness URL to ask for cosignatures (repeat).")
        ] = None,
        witness_quorum: Annotated[
            int | None, typer.Option(help="Cosignatures needed before serving (default: all).")
        ] = None,
        witness_interval: Annotated[
            float, typer.Option(help="Seconds between re-cosignings of an unchanged checkpoint.")
        ] = 60.0,
        database: Annotated[
            str | None, typer.Option(help="postgresql:// URL (default: SQLite in the home).")
        ] = None,
    ) -> None:
        """Run the ledger service until interrupted."""
        from privproc._http import serve as run
        from privproc.ledger_service.app import LedgerConfig, build_app

        config = LedgerConfig(
            home=_home(home, "ledger"),
            origin=origin,
            witnesses=tuple(witness or ()),
            witness_quorum=witness_quorum,
            witness_interval=witness_interval,
            database=database,
        )
        run(build_app(config), host, port)

    @group.command()
    def add(*, url: _Url, home: _Home = None, as_json: _Json = False) -> None:
        """Append one entry, read from stdin as raw bytes; print its 0-based index."""
        from privproc.ledger_service.app import load_token
        from privproc.ledger_service.client import LedgerClient

        token = load_token(_home(home, "ledger"))
        entry = sys.stdin.buffer.read()
        with LedgerClient(url, token=token) as client:
            index = client.add(entry)
        typer.echo(json.dumps({"index": index}) if as_json else str(index))

    @group.command()
    def key(*, url: _Url, as_json: _Json = False) -> None:
        """Print the ledger's checkpoint verifier key (C2SP signed-note vkey)."""
        from privproc.ledger.cosignature import verifier_from_vkey
        from privproc.ledger_service.client import LedgerClient

        with LedgerClient(url) as client:
            vkey = client.vkey()
        verifier_from_vkey(vkey)  # refuse to print something that is not a vkey
        typer.echo(json.dumps({"vkey": vkey}) if as_json else vkey)
