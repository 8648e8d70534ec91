"""What the page shows, from a real verification (tests/_world) and real errors."""

from __future__ import annotations

from privproc.client.verify import VerifiedDirectory, verify_directory
from privproc.errors import ConfigError, LedgerError, PolicyError, ReplayError
from privproc.webapp import plain
from privproc.webapp.views import error_view, requests_view, verification_view
from tests._world import NOW, ROGUE, NodeSpec, World


def _mixed() -> VerifiedDirectory:
    world = World(
        nodes=[NodeSpec("node-1"), NodeSpec("rogue", measurement=ROGUE), NodeSpec("node-2")]
    )
    keys, bundle = world.documents()
    return verify_directory(keys, bundle, world.trust(), now=NOW, seen=None)


REPORT = {
    "time": "2026-11-20T18:10:00+00:00",
    "feature": "summarize",
    "sealed_bytes": 1272,
    "named": [{"node": "node-2", "measurement": "ab", "release_index": 0}, {"node": "node-1"}],
    "answered_by": "node-1",
    "measurement": "ab",
    "release_index": 0,
}


def test_verification_view_names_each_node_and_the_refused_one_in_plain_words() -> None:
    verified = _mixed()
    view = verification_view(verified, [REPORT])
    assert view["checkpoint"]["cosigners"] == list(verified.cosigners)
    assert len(view["checkpoint"]["cosigners"]) >= 2
    assert len(view["checkpoint"]["root"]) == 64
    nodes = {n["name"]: n for n in view["nodes"]}
    assert set(nodes) == {"node-1", "rogue", "node-2"}
    assert not nodes["rogue"]["ok"]
    assert nodes["rogue"]["checks"][0]["check"] == "release.missing"
    assert nodes["rogue"]["checks"][0]["words"] == "The node's code is not in the public ledger"
    assert nodes["node-1"]["ok"]
    checks = {c["check"]: c for c in nodes["node-1"]["checks"]}
    assert {"release.ledger", "release.model", "attestation"} <= set(checks)
    assert checks["release.model"]["words"] == "The node serves the model file the release names"
    assert all(c["ok"] for c in checks.values())
    # The simulated root is a test key: the device says its test trust store is on.
    assert [p["subject"] for p in view["parties"]] == ["device", "ledger", "gateway", "bundle"]
    assert view["releases"][0]["ledger_index"] >= 0
    assert view["last_request"] == {
        "named": ["node-2", "node-1"],
        "answered_by": "node-1",
        "time": REPORT["time"],
    }
    assert verification_view(verified, [])["last_request"] is None


def test_requests_view_is_newest_first() -> None:
    older = {**REPORT, "feature": "rewrite", "time": "2026-11-20T18:00:00+00:00"}
    rows = requests_view([older, REPORT])
    assert [r["feature"] for r in rows] == ["summarize", "rewrite"]
    assert rows[0]["bytes"] == 1272
    assert rows[0]["named"] == ["node-2", "node-1"]


def test_errors_are_named_checks_in_plain_words() -> None:
    assert error_view(LedgerError("release.revoked", "x")) == {
        "check": "release.revoked",
        "words": "The node's code was revoked in the public ledger",
    }
    assert error_view(PolicyError("client.ai_blocked", "x"))["words"] == (
        "Advanced Chat Privacy is on for this chat: nothing was sent"
    )
    assert error_view(ConfigError("/home/secret"))["check"] == "config"
    assert "/home/secret" not in str(error_view(ConfigError("/home/secret")))
    assert error_view(ReplayError("spent"))["words"] == plain.failed("replay")


def test_plain_words_fall_back_to_the_family_then_a_sentence() -> None:
    assert plain.refused("sevsnp.vcek.signature") == (
        "The node's attestation does not come from trusted AMD hardware"
    )
    assert plain.refused("zzz.unknown") == "A check failed, so nothing was sent"
    assert plain.passed("zzz.unknown") == "Checked"
    assert plain.failed("zzz") == "Something went wrong; nothing more is shown on purpose"
