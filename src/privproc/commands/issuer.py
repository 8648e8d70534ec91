"""``privproc issuer``: run the Privacy Pass issuer (RFC 9578) on HOST:PORT.

State (token keys, device keys, quota counters) lives in ``$PRIVPROC_HOME/issuer/``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _home(home: Path | None) -> Path:
    from privproc._home import party_home

    return party_home(home, "issuer")


def register(app: typer.Typer) -> None:
    """Add the ``issuer`` command."""

    @app.command()
    def issuer(
        *,
        host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="port to listen on")] = 8081,
        home: Annotated[
            Path | None, typer.Option(help="state folder (default $PRIVPROC_HOME/issuer)")
        ] = None,
        quota: Annotated[int, typer.Option(help="tokens per account per UTC day")] = 100,
        open_: Annotated[
            bool,
            typer.Option("--open", help="issue to unauthenticated clients (interop tests only)"),
        ] = False,
        redis: Annotated[
            str | None,
            typer.Option(help="Redis URL for quotas shared by several issuers (default SQLite)"),
        ] = None,
        enroll_token: Annotated[
            str | None,
            typer.Option(
                envvar="PRIVPROC_ISSUER_ENROLL_TOKEN",
                help="bearer token required to register devices "
                "(default: only the first device of each account)",
            ),
        ] = None,
        key_lifetime_days: Annotated[float, typer.Option(help="how long a key is active")] = 7.0,
        key_overlap_days: Annotated[float, typer.Option(help="old/new key overlap")] = 1.0,
    ) -> None:
        """Run the token issuer until interrupted."""
        from privproc._http import serve
        from privproc.issuer.app import IssuerConfig, IssuerService, create_app
        from privproc.issuer.keys import DAY

        config = IssuerConfig(
            home=_home(home),
            quota_per_day=quota,
            open=open_,
            redis_url=redis,
            enroll_token=enroll_token,
            key_lifetime=key_lifetime_days * DAY,
            key_overlap=key_overlap_days * DAY,
        )
        serve(create_app(IssuerService(config)), host, port)
