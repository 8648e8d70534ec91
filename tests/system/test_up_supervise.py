"""``privproc up`` supervises: a party killed with SIGKILL is reported and restarted on
its port while the others keep serving; requests work again once it is back."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.system._procs import FAMILY_CHAT, cli, start_up, up_endpoints

pytestmark = [pytest.mark.system, pytest.mark.slow]


def _pid(home: Path, party: str) -> int:
    return int((home / party / "pid").read_text())


def _restarted(home: Path, party: str, old: int, timeout: float = 90) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pid = _pid(home, party)
        if pid != old:
            return pid
        time.sleep(0.2)
    raise AssertionError(f"{party} was not restarted")


def test_killed_parties_are_restarted_and_requests_work_again(tmp_path: Path) -> None:
    home = tmp_path / "home"
    up = start_up(home, "--nodes", "2")
    try:
        up_endpoints(up)
        chat = tmp_path / "chat.json"
        chat.write_text(json.dumps(FAMILY_CHAT))
        assert cli(["summarize", "--chat", str(chat)], home).returncode == 0
        for party in ("relay", "enclave-1"):
            old = _pid(home, party)
            os.kill(old, signal.SIGKILL)
            new = _restarted(home, party, old)
            assert new != old
        # The restarted node has new keys: the directory lists them once the gateway has
        # polled; the device's one refetch-and-retry covers a bundle cached before.
        deadline = time.monotonic() + 60
        while True:
            done = cli(["summarize", "--chat", str(chat), "--json"], home)
            if done.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(1)
        assert done.returncode == 0, done.stderr
        assert "apple pie" in json.loads(done.stdout)["summary"]
        assert up.poll() is None, "privproc up stopped when one party died"
    finally:
        os.killpg(up.pid, signal.SIGINT)
        out, _ = up.communicate(timeout=60)
    assert b"relay exited (code -9); restarting it" in out
    assert b"enclave-1 restarted (pid" in out
