"""The shared server helper (tests/_servers.py) waits boundedly and always stops its child."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests._servers import running_server

_SLEEP = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_a_child_that_exits_at_start_fails_with_its_log(tmp_path: Path) -> None:
    args = [sys.executable, "-c", "print('boom-7f3'); raise SystemExit(3)"]
    with (
        pytest.raises(RuntimeError, match=r"exited with 3 at start\n.*boom-7f3"),
        running_server(args, lambda: False, what="child", log=tmp_path / "log"),
    ):
        pytest.fail("never ready")


def test_a_child_that_never_answers_times_out_and_is_stopped() -> None:
    seen: list[subprocess.Popen[bytes]] = []

    def ready() -> bool:
        raise OSError("connection refused")  # counts as "not yet"

    with (
        pytest.raises(RuntimeError, match=r"did not answer within 0\.3 s"),
        running_server(_SLEEP, ready, what="child", timeout=0.3) as proc,
    ):
        seen.append(proc)
    assert seen == []


def test_the_child_is_stopped_when_the_block_ends() -> None:
    with running_server(_SLEEP, lambda: True, what="child") as proc:
        assert proc.poll() is None
    assert proc.returncode is not None
