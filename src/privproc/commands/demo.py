"""``privproc demo``: every party on loopback, a scripted scenario, then exit 0."""

from __future__ import annotations

import json
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command."""

    @app.command()
    def demo(
        *,
        as_json: Annotated[
            bool,
            typer.Option(
                "--json", help="Print one JSON object of every step (progress goes to stderr)."
            ),
        ] = False,
        platform: Annotated[
            str,
            typer.Option(
                help="simulated, sev-snp-emulated, sev-snp+nvidia-cc-emulated or tdx-emulated."
            ),
        ] = "simulated",
    ) -> None:
        """Start everything in a temporary home, summarize a chat, rewrite a draft, fail closed."""
        from rich.console import Console

        from privproc.cluster.demo import run_demo
        from privproc.cluster.launch import CLUSTER_PLATFORMS
        from privproc.errors import ConfigError

        if platform not in CLUSTER_PLATFORMS:
            raise ConfigError(f"--platform must be one of {', '.join(CLUSTER_PLATFORMS)}")
        result = run_demo(Console(stderr=as_json), platform=platform)
        if as_json:
            typer.echo(json.dumps(result, ensure_ascii=False, sort_keys=True))
