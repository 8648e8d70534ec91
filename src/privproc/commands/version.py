"""``privproc version``."""

from __future__ import annotations

import typer

from privproc import __version__


def register(app: typer.Typer) -> None:
    """Add the ``version`` command."""

    @app.command()
    def version() -> None:
        """Print the privproc version."""
        typer.echo(__version__)
