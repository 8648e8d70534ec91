"""``privproc demo`` runs the whole scenario through real processes and exits 0."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.system._procs import env

pytestmark = [pytest.mark.system, pytest.mark.slow]


def test_demo_runs_start_to_finish() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "privproc", "demo"],
        env=env(COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stdout
    assert "summary of 5 unread messages" in out
    assert "professional" in out
    assert "client.ai_blocked" in out
    assert "failed closed (LedgerError, check release.missing)" in out
    assert "demo finished: every party stopped" in out
