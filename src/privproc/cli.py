"""The ``privproc`` command line: parse, call, print.

Each area adds its commands from a module in :mod:`privproc.commands`; every
module there exposes ``register(app)`` and is listed in :data:`COMMANDS` (plain
imports, so every tool sees them). Every command exits non-zero with a one-line
reason on failure; under ``--json`` the failure is JSON on stdout too
(``{"error": {"check", "message"}}``), with the same exit code.
"""

from __future__ import annotations

import json
import sys
from types import ModuleType

import typer

from privproc.commands import (
    app,
    attest,
    audit,
    client,
    consent,
    demo,
    directory,
    enclave,
    gateway,
    issuer,
    ledger,
    relay,
    release,
    up,
    version,
    witness,
    workloads,
)
from privproc.errors import PrivprocError, VerificationError

__all__ = ["COMMANDS", "build_app", "error_document", "main"]

#: Every command module, in the order ``--help`` lists them.
COMMANDS: tuple[ModuleType, ...] = (
    app,
    attest,
    audit,
    client,
    consent,
    demo,
    directory,
    enclave,
    gateway,
    issuer,
    ledger,
    relay,
    release,
    up,
    version,
    witness,
    workloads,
)


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

    for module in COMMANDS:
        module.register(app)
    return app


def error_document(exc: PrivprocError) -> dict[str, dict[str, str]]:
    """A failure as ``--json`` prints it: the check that failed (or the error's code)."""
    check = exc.check if isinstance(exc, VerificationError) else exc.code
    return {"error": {"check": check, "message": str(exc)}}


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning privproc errors into a one-line reason."""
    app = build_app()
    try:
        app(args=argv, prog_name="privproc")
    except PrivprocError as exc:
        args = sys.argv[1:] if argv is None else argv
        if "--json" in args:
            print(json.dumps(error_document(exc), ensure_ascii=False))
        print(f"privproc: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
