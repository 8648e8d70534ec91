"""Run a server in a child process on a free loopback port, wait until it answers, stop it.

One helper for every test that needs a real server (Redis, the issuer, the consent
service, a Node.js peer): the wait is bounded, a child that exits early fails at once
with the tail of its log, and the child is always stopped (SIGTERM, then SIGKILL).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

SRC = str(Path(__file__).resolve().parents[1] / "src")


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def privproc_env(**extra: str) -> dict[str, str]:
    """The environment for ``python -m privproc``: this worktree's ``src`` first."""
    env = {**os.environ, "PYTHONPATH": SRC}
    env.update(extra)
    return env


def http_ok(url: str) -> Callable[[], bool]:
    """A readiness check: ``GET url`` answers 200."""
    return lambda: httpx.get(url, timeout=1.0).status_code == 200


def wait_ready(
    proc: subprocess.Popen[bytes] | None,
    ready: Callable[[], bool],
    *,
    what: str,
    timeout: float = 30.0,
    log: Path | None = None,
    interval: float = 0.05,
) -> None:
    """Poll ``ready()`` (an OSError or httpx error counts as "not yet") until it is true;
    RuntimeError when ``proc`` exits first (with the tail of ``log``) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log is not None else ""
            raise RuntimeError(f"{what} exited with {proc.returncode} at start\n{tail}")
        try:
            if ready():
                return
        except (OSError, httpx.HTTPError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not answer within {timeout:g} s")
        time.sleep(interval)


def stop_process(
    proc: subprocess.Popen[bytes], *, group: bool = False, timeout: float = 10.0
) -> None:
    """SIGTERM, then SIGKILL after ``timeout``; with ``group``, to the child's whole
    process group (a child started with ``start_new_session=True``)."""
    if proc.poll() is not None:
        return

    def send(sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(proc.pid, sig)
            else:
                proc.send_signal(sig)

    send(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        send(signal.SIGKILL)
        proc.wait(timeout=timeout)


@contextmanager
def running_server(
    args: list[str],
    ready: Callable[[], bool],
    *,
    what: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    timeout: float = 30.0,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``args``; poll ``ready()`` (an OSError or httpx error counts as "not yet")
    until it is true, the child exits, or ``timeout`` passes; yield the child; stop it."""
    out = log.open("wb") if log is not None else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(args, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log is not None:
            out.close()  # type: ignore[union-attr]  # the child holds its own copy
    try:
        wait_ready(proc, ready, what=what, timeout=timeout, log=log)
        yield proc
    finally:
        stop_process(proc)


@contextmanager
def privproc_server(
    args: list[str],
    *,
    what: str,
    health: str = "/healthz",
    env: dict[str, str] | None = None,
    log: Path | None = None,
) -> Iterator[str]:
    """``python -m privproc ARGS --host 127.0.0.1 --port P``; yields its base URL once
    ``GET health`` answers 200."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "privproc", *args, "--host", "127.0.0.1", "--port", str(port)]
    with running_server(cmd, http_ok(url + health), what=what, env=env or privproc_env(), log=log):
        yield url
