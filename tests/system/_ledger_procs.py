"""Start privproc services as real processes on loopback, with bounded waits.

Unlike :mod:`tests._servers`, start and stop are separate steps (the crash tests
kill a ledger mid-write and restart it on the same home).
"""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

SRC = str(Path(__file__).resolve().parents[2] / "src")


def env(home: Path) -> dict[str, str]:
    e = dict(os.environ)
    e["PYTHONPATH"] = SRC + os.pathsep + e.get("PYTHONPATH", "")
    e["PRIVPROC_HOME"] = str(home)
    e.pop("PRIVPROC_LEDGER_TOKEN", None)
    return e


def start(args: list[str], home: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "privproc", *args],
            env=env(home),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def run_cli(args: list[str], home: Path, stdin: bytes = b"", timeout: float = 30) -> str:
    r = subprocess.run(
        [sys.executable, "-m", "privproc", *args],
        env=env(home),
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if r.returncode != 0:
        raise AssertionError(f"privproc {args[0]} failed: {r.stderr.decode()[-2000:]}")
    return r.stdout.decode()


def wait_for(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, OSError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def read_until_json_line(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> bytes:
    """Read ``proc``'s stdout until it has printed one whole line starting with ``{``;
    return all bytes read so far (prepend them to what ``communicate`` gives later)."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    deadline = time.monotonic() + timeout
    seen = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        while not any(line.startswith(b"{") for line in seen.split(b"\n")[:-1]):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise AssertionError(f"no JSON line within {timeout:g} s")
            chunk = os.read(fd, 65536)
            if not chunk:
                raise AssertionError(f"process exited with {proc.wait(timeout=10)} first")
            seen += chunk
    return seen


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    def up() -> bool:
        if proc.poll() is not None:
            raise AssertionError(f"process for {url} exited with {proc.returncode}")
        return httpx.get(url, timeout=1.0).status_code < 500

    wait_for(up, url, timeout)


def stop(proc: subprocess.Popen[bytes], *, hard: bool = False) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL if hard else signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
