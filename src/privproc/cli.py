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
        app(args=argv, standalone_mode=False)
    except PrivprocError as exc:
        print(f"privproc: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    except typer.Abort:
        print("privproc: aborted", file=sys.stderr)
        raise SystemExit(130) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except Exception as exc:  # click usage errors arrive here in non-standalone mode
        from click.exceptions import ClickException

        if isinstance(exc, ClickException):
            exc.show()
            raise SystemExit(exc.exit_code) from None
        raise
