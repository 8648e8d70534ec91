"""Revocation end to end: ``privproc revoke`` appends a record, fresh devices refuse.

One small cluster (ledger, 2 witnesses, issuer, 2 released nodes, gateway,
directory, relay). A device is served first; then the operator revokes the
release with ``privproc revoke`` (a separate process) and a fresh device refuses
the node naming ``release.revoked``; then the gateway's key configs are revoked
and a fresh device refuses naming ``keyconfig.revoked`` (checked before nodes).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from privproc import ohttp
from privproc.client.config import ClientConfig
from privproc.client.sdk import Device
from privproc.client.session import open_device
from privproc.cluster.launch import Cluster, ClusterSpec
from privproc.errors import LedgerError
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.note import Note
from privproc.workloads.chat import Chat
from tests.system._procs import env

pytestmark = pytest.mark.system

CHAT = {
    "chat": "Team",
    "language": "en",
    "ai_blocked": False,
    "messages": [
        {"sender": "Ana", "time": "2026-11-20T18:00:00Z", "unread": True, "text": "Lunch at 1?"},
        {"sender": "Ben", "time": "2026-11-20T18:01:00Z", "unread": True, "text": "Yes, at 1."},
    ],
}


@dataclasses.dataclass
class Small:
    cluster: Cluster
    home: Path
    config: ClientConfig


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Small]:
    home = tmp_path_factory.mktemp("revoke") / "home"
    cluster = Cluster(home, ClusterSpec(nodes=2, k=2))
    try:
        config = cluster.start()
        yield Small(cluster, home, config)
    finally:
        cluster.stop()


def _fresh_device(small: Small, name: str) -> Device:
    home = small.home / "devices" / name
    home.mkdir(parents=True)
    config = dataclasses.replace(small.config, account=f"acct-{name}")
    (home / "config.json").write_text(config.dumps())
    return open_device(home)


def _revoke(small: Small, *args: str) -> dict[str, object]:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "privproc",
            "revoke",
            "--ledger",
            small.cluster.parties["ledger"].url,
            "--ledger-token",
            str(small.home / "ledger" / "token"),
            "--publisher",
            str(small.home / "operator" / "publisher.key"),
            "--reason",
            "test: compromised build",
            "--json",
            *args,
        ],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out: dict[str, object] = json.loads(done.stdout)
    return out


def _wait_served(small: Small, index: int) -> None:
    """Until the directory serves a witnessed checkpoint that includes entry ``index``."""
    url = small.cluster.parties["directory"].url + "/nodes"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        doc = httpx.get(url, timeout=5).json()
        if Checkpoint.parse(Note.decode(doc["checkpoint"].encode()).text).size > index:
            return
        time.sleep(0.3)
    pytest.fail("the directory never served a checkpoint with the revocation")


def test_revoked_release_then_revoked_key_config_are_refused(small: Small) -> None:
    release = small.cluster.release
    assert release is not None
    with _fresh_device(small, "before") as device:
        answer = device.summarize(Chat.from_json(CHAT))
        assert answer.report.measurement == release.measurement.hex()

    # The operator revokes this build's measurement (the default target).
    out = _revoke(small)
    assert out["kind"] == "measurement"
    assert out["target"] == release.measurement.hex()
    assert isinstance(out["index"], int)
    _wait_served(small, out["index"])
    with _fresh_device(small, "after-release") as device, pytest.raises(LedgerError) as info:
        device.summarize(Chat.from_json(CHAT))
    assert info.value.check == "release.revoked"

    # Then every key config the gateway serves: refused before any node is looked at.
    keys = httpx.get(small.cluster.parties["directory"].url + "/ohttp-keys", timeout=5).content
    last = 0
    for config in ohttp.decode_list(keys):
        target = hashlib.sha256(config.encode()).hexdigest()
        out = _revoke(small, "--kind", "key_config", "--target", target)
        assert isinstance(out["index"], int)
        last = out["index"]
    _wait_served(small, last)
    with _fresh_device(small, "after-keys") as device, pytest.raises(LedgerError) as info:
        device.summarize(Chat.from_json(CHAT))
    assert info.value.check == "keyconfig.revoked"


def test_revoke_refuses_bad_input_without_a_ledger() -> None:
    base = [sys.executable, "-m", "privproc", "revoke", "--ledger", "http://127.0.0.1:9"]
    base += ["--ledger-token", "/nonexistent", "--publisher", "/nonexistent", "--reason", "x"]
    for extra in (["--kind", "key_config"], ["--target", "zz"]):
        done = subprocess.run(
            [*base, *extra], env=env(), capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 1
        assert "privproc: error:" in done.stderr
        assert "--target" in done.stderr
