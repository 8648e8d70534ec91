"""``privproc directory``: the static directory (key configs and node bundle), one party."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``directory`` command."""

    @app.command()
    def directory(
        *,
        gateway: Annotated[str, typer.Option(help="The gateway's URL (for its key configs).")],
        ledger: Annotated[str, typer.Option(help="The ledger's URL.")],
        node: Annotated[list[str], typer.Option(help="An enclave node's URL (repeat).")],
        refresh: Annotated[float, typer.Option(help="Seconds between refreshes.")] = 2.0,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8083,
    ) -> None:
        """Serve the gateway key configs and the node bundle, the same for everyone."""
        from privproc._http import serve
        from privproc.directory.app import DirectoryConfig, create_app

        config = DirectoryConfig(
            gateway_url=gateway, ledger_url=ledger, nodes=tuple(node), refresh_every=refresh
        )
        serve(create_app(config), host, port)
