"""``privproc witness``: a C2SP tlog-witness cosigner."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the ``witness`` command."""

    @app.command()
    def witness(
        *,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8710,
        home: Annotated[
            Path | None, typer.Option(help="State folder (default $PRIVPROC_HOME/witness).")
        ] = None,
        name: Annotated[str, typer.Option(help="The witness's key name.")] = (
            "witness.privproc.local"
        ),
        log: Annotated[
            list[str] | None, typer.Option(help="A log vkey to witness (repeat); origin = name.")
        ] = None,
    ) -> None:
        """Run a witness: cosign checkpoints that extend the ones it cosigned before."""
        from privproc._home import party_home
        from privproc._http import serve
        from privproc.errors import ConfigError
        from privproc.ledger.cosignature import verifier_from_vkey
        from privproc.ledger.note import Ed25519Verifier
        from privproc.witness.service import WitnessConfig, build_app

        if not log:
            raise ConfigError("give at least one --log VKEY to witness")
        verifiers = [verifier_from_vkey(v) for v in log]
        if not all(isinstance(v, Ed25519Verifier) for v in verifiers):
            raise ConfigError("--log takes a log's Ed25519 (type 0x01) vkey")
        config = WitnessConfig(
            home=party_home(home, "witness"), name=name, logs={v.name: v for v in verifiers}
        )
        serve(build_app(config), host, port)
