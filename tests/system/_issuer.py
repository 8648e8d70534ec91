"""Run ``privproc issuer`` in a child process on a free loopback port (for system tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests._servers import privproc_server


@contextmanager
def issuer_process(home: Path, *args: str, log: Path | None = None) -> Iterator[str]:
    """Start the issuer with ``--home home`` and ``args``; yield its base URL; stop it."""
    with privproc_server(["issuer", "--home", str(home), *args], what="issuer", log=log) as url:
        yield url
