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


def test_the_system_helpers_reuse_the_shared_ones() -> None:
    """tests/system/_procs.py keeps no second copy of the port, wait and stop logic."""
    from tests import _servers
    from tests.system import _procs

    assert _procs.free_port is _servers.free_port
    assert _procs.wait_ready is _servers.wait_ready
    assert _procs.stop_process is _servers.stop_process


def test_wait_http_fails_at_once_when_the_child_exits(tmp_path: Path) -> None:
    from tests.system._procs import free_port, spawn, stop, wait_http

    proc = spawn(["-m", "this_module_does_not_exist_7f3"], log=tmp_path / "log")
    try:
        with pytest.raises(RuntimeError, match=r"exited with 1 at start"):
            wait_http(f"http://127.0.0.1:{free_port()}/", proc, timeout=30.0)
    finally:
        stop(proc)


def test_stop_kills_the_whole_group_when_sigterm_is_ignored(tmp_path: Path) -> None:
    from tests._servers import stop_process

    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        " print(1, flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, start_new_session=True
    )
    assert proc.stdout is not None
    proc.stdout.readline()  # the handler is in place
    stop_process(proc, group=True, timeout=0.5)
    assert proc.returncode == -9
    proc.stdout.close()
