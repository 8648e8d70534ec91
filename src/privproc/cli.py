"""The ``privproc`` command line: parse, call, print.

Each area adds its commands from a module in :mod:`privproc.commands`; every
module there exposes ``register(app)``. Every command exits non-zero with a
one-line reason on failure.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import typer

from privproc import commands
from privproc.errors import PrivprocError

__all__ = ["build_app", "main"]


def build_app() -> typer.Typer:
    """Build the Typer application with every registered command."""
    app = typer.Typer(
        name="privproc",
        help="Private AI processing for end-to-end-encrypted messaging.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def _root() -> None:
        """Private AI processing for end-to-end-encrypted messaging."""

    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(app)
    return app


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning privproc errors into a one-line reason."""
    app = build_app()
    try:
        app(args=argv, prog_name="privproc")
    except PrivprocError as exc:
        print(f"privproc: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
