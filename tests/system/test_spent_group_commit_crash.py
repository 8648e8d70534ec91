"""Issue 18 item 3: kill -9 a process in the middle of group-committed spends; every spend
it acknowledged is in the store afterwards (spending it again is refused)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from privproc.stores.spent import SqliteSpentStore

pytestmark = pytest.mark.system

ROOT = Path(__file__).resolve().parents[2]


def test_kill_9_loses_no_acknowledged_spend(tmp_path: Path) -> None:
    db = tmp_path / "spent.db"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    worker = subprocess.Popen(
        [sys.executable, "-m", "tests.system._spend_worker", str(db), "16"],
        stdout=subprocess.PIPE,
        env=env,
        cwd=ROOT,
    )
    assert worker.stdout is not None
    acked: list[bytes] = []
    try:
        assert worker.stdout.readline().strip() == b"ready"
        deadline = time.monotonic() + 30
        while len(acked) < 400 and time.monotonic() < deadline:
            line = worker.stdout.readline().strip()
            assert not line.startswith(b"error"), line
            acked.append(bytes.fromhex(line.decode()))
        os.kill(worker.pid, signal.SIGKILL)  # mid-stream: spends are in flight
        worker.wait(10)
        # Whatever it had flushed before dying was acknowledged too.
        for line in worker.stdout.read().splitlines():
            if line.strip() and not line.startswith(b"error"):
                acked.append(bytes.fromhex(line.strip().decode()))
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(5)
        worker.stdout.close()
    assert len(acked) >= 400
    store = SqliteSpentStore(db)
    try:
        now = time.time()
        lost = [k for k in acked if store.spend(k, expires_at=now + 3600, now=now)]
    finally:
        store.close()
    assert lost == [], f"{len(lost)} acknowledged spends were lost"
