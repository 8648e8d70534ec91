"""``privproc up`` in one process, the client commands in others, Ctrl-C stops everything."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.system._procs import FAMILY_CHAT, cli, start_up, up_endpoints

pytestmark = pytest.mark.system


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_up_then_client_commands_then_ctrl_c(tmp_path: Path) -> None:
    home = tmp_path / "home"
    up = start_up(home, "--nodes", "2")
    try:
        config = home / "client" / "config.json"
        deadline = time.monotonic() + 90
        while not config.exists() and time.monotonic() < deadline and up.poll() is None:
            time.sleep(0.2)
        assert config.exists(), "privproc up never wrote the client config"
        chat = tmp_path / "chat.json"
        chat.write_text(json.dumps(FAMILY_CHAT))
        summary = cli(["summarize", "--chat", str(chat), "--json"], home)
        assert summary.returncode == 0, summary.stderr
        assert "apple pie" in json.loads(summary.stdout)["summary"]
        rewrite = cli(["rewrite", "--draft", "can u come tmrw", "--tone", "friendly"], home)
        assert rewrite.returncode == 0, rewrite.stderr
        assert rewrite.stdout.startswith("friendly: ")
        verify = cli(["verify", "--json"], home)
        assert verify.returncode == 0, verify.stderr
        assert all(step["ok"] for step in json.loads(verify.stdout)["trail"])
        report = cli(["report", "--json"], home)
        assert [r["feature"] for r in json.loads(report.stdout)] == ["summarize", "rewrite"]
        blocked = tmp_path / "blocked.json"
        blocked.write_text(json.dumps({**FAMILY_CHAT, "ai_blocked": True}))
        refused = cli(["summarize", "--chat", str(blocked)], home)
        assert refused.returncode == 1
        assert "client.ai_blocked" in refused.stderr
        # Issue 12 item 6: the config `privproc up` wrote pins the audit's keys.
        endpoints = up_endpoints(up)
        ledger_url = endpoints["parties"]["ledger"]
        audit = cli(["audit", "--url", ledger_url, "--strict", "--json"], home)
        assert audit.returncode == 0, audit.stdout + audit.stderr
        audited = json.loads(audit.stdout.strip().splitlines()[-1])
        assert audited["trust"].startswith("pinned")
        assert audited["unpinned"] == []
        assert audited["key_configs"] == 1
        assert "sequence and overlap kept" in audited["key_rule"]
        pids = [int(p.read_text()) for p in home.glob("*/pid")]
    finally:
        os.killpg(up.pid, signal.SIGINT)
        out, _ = up.communicate(timeout=30)
    assert up.returncode == 0, out
    assert b"stopping every party" in out
    assert b'{"client_config"' not in out  # printed once, read above
    assert endpoints["client_config"] == str(home / "client" / "config.json")
    client = json.loads((home / "client" / "config.json").read_text())
    assert endpoints["parties"]["directory"].rstrip("/") == client["directory_url"].rstrip("/")
    assert {"ledger", "gateway", "relay", "issuer", "enclave-1", "enclave-2"} <= set(
        endpoints["parties"]
    )
    assert len(endpoints["release"]["measurement"]) == 96
    assert pids
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in pids if _alive(p)]
