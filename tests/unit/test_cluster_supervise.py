"""Cluster.supervise: an exited party is restarted on its port; a crash loop stops it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from privproc.cluster.launch import RESTART_LIMIT, Cluster, Party
from privproc.errors import ConfigError


def _exited(tmp_path: Path, restarts: tuple[float, ...]) -> Cluster:
    cluster = Cluster(tmp_path)
    (tmp_path / "p").mkdir()
    command = (sys.executable, "-c", "raise SystemExit(3)")
    process = subprocess.Popen(command)
    process.wait(30)
    log = tmp_path / "p" / "p.log"
    cluster.parties["p"] = Party("p", "http://127.0.0.1:9", process, log, command, "/", restarts)
    return cluster


def test_a_crash_loop_is_named_and_not_restarted(tmp_path: Path) -> None:
    now = time.monotonic()
    cluster = _exited(tmp_path, tuple(now - i for i in range(RESTART_LIMIT)))
    lines: list[str] = []
    with pytest.raises(ConfigError) as info:
        cluster.supervise(lines.append)
    assert f"p exited {RESTART_LIMIT + 1} times" in str(info.value)
    assert lines == []


def test_an_exit_is_reported_then_the_restart_is_tried(tmp_path: Path) -> None:
    cluster = _exited(tmp_path, (time.monotonic() - 3600,))  # an old restart does not count
    lines: list[str] = []
    with pytest.raises(ConfigError) as info:  # it exits again while starting
        cluster.supervise(lines.append)
    assert lines == ["p exited (code 3); restarting it on http://127.0.0.1:9"]
    assert "p exited (see" in str(info.value)
    assert (tmp_path / "p" / "pid").read_text().strip().isdigit()
    assert len(cluster.parties["p"].restarts) == 1
