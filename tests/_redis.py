"""A real Redis server for tests: started on a free loopback port in a temp dir, then stopped.

Import the ``redis_url`` fixture into a test module (``from tests._redis import redis_url``).
Never a fake: tests that need Redis skip (with the reason) only if ``redis-server``
is not installed.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests._servers import free_port, running_server

__all__ = ["free_port", "redis_server", "redis_url"]

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def _pong(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")


@contextmanager
def redis_server() -> Iterator[str]:
    """Run redis-server (no persistence) until the block ends; yields its URL."""
    if not shutil.which(REDIS_SERVER):
        pytest.skip("redis-server is not installed (make services)")
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        args = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", tmp, "--protected-mode", "yes"]  # fmt: skip
        with running_server(
            args, lambda: _pong(port), what="redis-server", log=Path(tmp) / "redis.log"
        ):
            yield f"redis://127.0.0.1:{port}/0"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """URL of a real Redis server shared by the session's tests."""
    with redis_server() as url:
        yield url
