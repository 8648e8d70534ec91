"""``privproc demo``: every party on loopback, a scripted scenario, then exit 0."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command."""

    @app.command()
    def demo() -> None:
        """Start everything in a temporary home, summarize a chat, rewrite a draft, fail closed."""
        from rich.console import Console

        from privproc.cluster.demo import run_demo

        run_demo(Console())
