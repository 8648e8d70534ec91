"""``privproc relay``: the OHTTP relay, one party."""

from __future__ import annotations

import typer

from privproc.limits import RELAY_MAX_BODY


def register(app: typer.Typer) -> None:
    """Add the ``relay`` command."""

    @app.command()
    def relay(
        *,
        gateway: str = typer.Option(..., help="The gateway resource URL every request goes to."),
        host: str = typer.Option("127.0.0.1", help="Address to listen on."),
        port: int = typer.Option(8081, help="Port to listen on."),
        rate: float = typer.Option(20.0, help="Requests per second per client address."),
        burst: int = typer.Option(40, help="Token bucket size per client address."),
        max_body: int = typer.Option(RELAY_MAX_BODY, help="Largest body accepted, in bytes."),
        timeout: float = typer.Option(30.0, help="Seconds to wait for the gateway's answer."),
    ) -> None:
        """Run the OHTTP relay: forward sealed requests to the gateway, hide the client."""
        from privproc._http import serve
        from privproc.relay.app import RelayConfig, create_app

        config = RelayConfig(
            gateway_url=gateway, rate=rate, burst=burst, max_body=max_body, timeout=timeout
        )
        serve(create_app(config), host, port)
