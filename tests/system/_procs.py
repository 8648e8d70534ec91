"""Helpers for system tests: separate processes in their own sessions, bounded waits, teardown.

Free ports, the readiness wait and stopping come from :mod:`tests._servers` (one
helper for every test); what is added here: children started in a new session
with the log appended (stopped as a whole process group), and the worktree root
on ``PYTHONPATH`` besides ``src``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests._servers import free_port, stop_process, wait_ready

__all__ = [
    "FAMILY_CHAT",
    "ROOT",
    "as_background_job",
    "cli",
    "env",
    "free_port",
    "running",
    "spawn",
    "start_up",
    "stop",
    "stop_process",
    "up_endpoints",
    "wait_http",
    "wait_ready",
]

ROOT = Path(__file__).resolve().parents[2]


def env(**extra: str) -> dict[str, str]:
    out = dict(os.environ)
    out["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    out.update(extra)
    return out


#: A two-message family chat with unread messages (DESIGN.md's chat format).
FAMILY_CHAT: dict[str, object] = {
    "chat": "Family",
    "language": "en",
    "ai_blocked": False,
    "messages": [
        {
            "sender": "Ana",
            "time": "2026-11-20T18:04:00Z",
            "unread": True,
            "text": "Dinner is at 7 on Saturday, can someone bring dessert?",
        },
        {
            "sender": "Ben",
            "time": "2026-11-20T18:06:00Z",
            "unread": True,
            "text": "I will bring an apple pie.",
        },
    ],
}


def cli(args: list[str], home: Path, *, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run ``python -m privproc ARGS`` as a device under ``home`` (its PRIVPROC_HOME)."""
    return subprocess.run(
        [sys.executable, "-m", "privproc", *args],
        env=env(PRIVPROC_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


#: Runs argv[1:] with SIGINT ignored (an ignored signal stays ignored across exec).
_IGNORING_SIGINT = (
    "import os, signal, sys;"
    " signal.signal(signal.SIGINT, signal.SIG_IGN);"
    " os.execv(sys.argv[1], sys.argv[1:])"
)


def as_background_job(command: list[str]) -> list[str]:
    """``command`` started with SIGINT ignored, as a shell without job control starts
    ``cmd &`` (CI runners often do). A command that promises Ctrl-C stops it must stop on
    SIGINT anyway, so the Ctrl-C tests start their commands this way."""
    return [sys.executable, "-c", _IGNORING_SIGINT, *command]


def start_up(home: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start ``privproc up --json ARGS`` under ``home`` in its own session (stdout piped),
    as a background job (:func:`as_background_job`)."""
    return subprocess.Popen(
        as_background_job([sys.executable, "-m", "privproc", "up", "--json", *args]),
        env=env(PRIVPROC_HOME=str(home)),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def up_endpoints(up: subprocess.Popen[bytes]) -> dict[str, Any]:
    """Read ``privproc up --json``'s output up to its one endpoints line, parsed."""
    assert up.stdout is not None
    line = b""
    while not line.startswith(b'{"client_config"'):
        line = up.stdout.readline()
        assert line, "privproc up stopped before it printed its endpoints"
    endpoints: dict[str, Any] = json.loads(line)
    return endpoints


def spawn(args: list[str], *, log: Path, **extra: str) -> subprocess.Popen[bytes]:
    """Start ``python -m privproc ARGS`` (or ``-m module`` when args[0] == '-m')."""
    cmd = [sys.executable, *args] if args[0] == "-m" else [sys.executable, "-m", "privproc", *args]
    with log.open("ab") as handle:
        return subprocess.Popen(
            cmd, stdout=handle, stderr=subprocess.STDOUT, env=env(**extra), start_new_session=True
        )


def wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> None:
    """Wait until ``url`` answers at all (any status); RuntimeError if ``proc`` exits first."""

    def answers() -> bool:
        httpx.get(url, timeout=1.0)
        return True

    wait_ready(proc, answers, what=url, timeout=timeout, interval=0.1)


def stop(proc: subprocess.Popen[bytes], timeout: float = 5.0) -> None:
    """Stop ``proc``'s whole process group (SIGTERM, then SIGKILL)."""
    stop_process(proc, group=True, timeout=timeout)


@contextlib.contextmanager
def running(procs: list[subprocess.Popen[bytes]]) -> Iterator[None]:
    try:
        yield
    finally:
        for p in reversed(procs):
            stop(p)
