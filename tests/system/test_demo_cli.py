"""``privproc demo`` runs the whole scenario through real processes and exits 0."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.system._procs import env

pytestmark = [pytest.mark.system, pytest.mark.slow]


def test_demo_runs_start_to_finish() -> None:
    """``--json``: one JSON object on stdout; the human-readable steps go to stderr."""
    done = subprocess.run(
        [sys.executable, "-m", "privproc", "demo", "--json"],
        env=env(COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    out = done.stderr
    assert "summary of 5 unread messages" in out
    assert "professional" in out
    assert "client.ai_blocked" in out
    assert "failed closed (LedgerError, check release.missing)" in out
    assert "demo finished: every party stopped" in out
    result = json.loads(done.stdout)
    trail = result["verification"]["trail"]
    assert any(s["check"] == "attestation" and s["ok"] for s in trail)
    assert [s["check"] for s in trail if not s["ok"]] == ["release.missing"]
    assert len(result["verification"]["usable_nodes"]) == 2
    assert result["summary"]["result"]["unread"] == 5
    assert len(result["summary"]["report"]["measurement"]) == 96
    assert result["summary"]["report"]["answered_by"] in result["verification"]["usable_nodes"]
    assert set(result["rewrites"]["result"]["rewrites"]) == {"professional", "friendly", "concise"}
    assert [(r["step"], r["check"]) for r in result["refusals"]] == [
        ("ai_blocked", "client.ai_blocked"),
        ("unreleased_node", "release.missing"),
    ]
    assert result["stopped"] is True


def test_demo_on_emulated_tdx_names_the_tdx_checks() -> None:
    """``--platform tdx-emulated``: DCAP quotes verified by dcap-qvl on the device."""
    done = subprocess.run(
        [sys.executable, "-m", "privproc", "demo", "--platform", "tdx-emulated", "--json"],
        env=env(COLUMNS="200"),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    result = json.loads(done.stdout)
    assert result["platform"] == "tdx-emulated"
    trail = result["verification"]["trail"]
    assert trail[0]["check"] == "trust.test_store"
    assert "1 emulated Intel root(s)" in trail[0]["detail"]
    attested = [s["detail"] for s in trail if s["check"] == "attestation" and s["ok"]]
    assert len(attested) == 2
    for detail in attested:
        assert "platform tdx" in detail
        for check in ("tdx.quote.chain", "tdx.quote.signature", "policy.tcb"):
            assert check in detail
    assert result["summary"]["report"]["answered_by"] in result["verification"]["usable_nodes"]
