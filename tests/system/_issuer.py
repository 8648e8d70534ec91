"""Run ``privproc issuer`` in a child process on a free loopback port (for system tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests._redis import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def issuer_process(home: Path, *args: str, log: Path | None = None) -> Iterator[str]:
    """Start the issuer with ``--home home`` and ``args``; yield its base URL; stop it."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    out = open(log, "wb") if log is not None else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "privproc",
            "issuer",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--home",
            str(home),
            *args,
        ],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"issuer exited with {proc.returncode}")
            try:
                if httpx.get(f"{url}/healthz", timeout=0.5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("issuer did not start within 30 s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if log is not None and out is not subprocess.DEVNULL:
            out.close()  # type: ignore[union-attr]
