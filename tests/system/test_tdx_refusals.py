"""Emulated Intel TDX on the live path: real processes, real sockets, dcap-qvl on the device.

One cluster for the module (``platform="tdx-emulated"``): 2 released nodes, then a
debuggable TD, a platform the emulated collateral calls OutOfDate (Intel's TCB status not
accepted), a TD whose MRTD is another image than the one it advertises, and a node that
binds the first witnessed checkpoint it fetched and never a newer one (stale). Each
refusal goes through a directory that lists only the bad node, and a device whose relay
is a closed port: had anything been sealed and sent, the error would be a transport
error, not the named attestation check.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from privproc.client.config import ClientConfig
from privproc.client.sdk import Device
from privproc.client.session import open_device
from privproc.cluster.launch import Cluster, ClusterSpec
from privproc.errors import AttestationError
from privproc.workloads.chat import Chat
from tests.system._procs import env

pytestmark = pytest.mark.system

CHAT = {
    "chat": "Team",
    "language": "en",
    "ai_blocked": False,
    "messages": [
        {"sender": "Ana", "time": "2026-11-20T18:00:00Z", "unread": True, "text": "Demo at 5pm."},
        {"sender": "Ben", "time": "2026-11-20T18:01:00Z", "unread": True, "text": "I'll be there."},
    ],
}
TDX_CHECKS = {"tdx.quote.chain", "tdx.quote.signature", "tdx.collateral.validity", "policy.tcb"}


@dataclass
class World:
    home: Path
    cluster: Cluster
    config: ClientConfig
    directories: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("tdx") / "home"
    spec = ClusterSpec(
        nodes=2,
        debug_nodes=1,
        low_tcb_nodes=1,
        lying_nodes=1,
        stale_nodes=1,
        platform="tdx-emulated",
        evidence_refresh=2.0,
        checkpoint_refresh=1.0,
    )
    cluster = Cluster(home, spec)
    try:
        config = cluster.start()
        directories = {
            what: cluster.extra_directory(f"directory-{what}", [node]).url
            for what, node in (
                ("debug", "enclave-3"),
                ("low-tcb", "enclave-4"),
                ("liar", "enclave-5"),
                ("stale", "enclave-6"),
            )
        }
        yield World(home, cluster, config, directories)
    finally:
        cluster.stop()


def _device(world: World, name: str, **changes: object) -> Device:
    folder = world.home / f"client-{name}"
    folder.mkdir(exist_ok=True)
    changes.setdefault("relay_url", "http://127.0.0.1:9/")  # nothing can be sent
    config = dataclasses.replace(world.config, account=f"acct-{name}", **changes)  # type: ignore[arg-type]
    (folder / "config.json").write_text(config.dumps())
    return open_device(folder)


def _refusal(world: World, name: str, **changes: object) -> AttestationError:
    with _device(world, name, **changes) as device, pytest.raises(AttestationError) as info:
        device.summarize(Chat.from_json(CHAT))
    assert not (world.home / f"client-{name}" / "reports.jsonl").exists()
    return info.value


def test_released_tdx_nodes_answer_through_dcap_qvl(world: World) -> None:
    assert world.config.test_tdx_roots
    assert not world.config.test_sevsnp_chains
    with open_device(world.home / "client") as device:
        verified = device.verify(force=True)
        assert "trust.test_store" in {s.check for s in verified.trail}
        assert {n.node for n in verified.nodes} == {"enclave-1", "enclave-2", "enclave-6"}
        for node in verified.nodes:
            assert node.verified.platform.name == "TDX"
            assert node.verified.tcb is None  # Intel's TCB status judged it
            assert len(node.verified.freshness) == 8 + 32  # timestamp || SHA-256(checkpoint)
            assert set(node.verified.checks) >= TDX_CHECKS
        failed = {s.subject: s.check for s in verified.trail if not s.ok}
        assert failed == {
            "enclave-3": "policy.debug",
            "enclave-4": "policy.tcb",
            "enclave-5": "policy.measurement",
        }
        attestation = [s.detail for s in verified.trail if s.check == "attestation"]
        assert all("platform tdx" in d and "tdx.quote.chain" in d for d in attestation)
        answer = device.summarize(Chat.from_json(CHAT))
        assert answer.report.answered_by in {"enclave-1", "enclave-2", "enclave-6"}


def test_wrong_root_the_test_root_not_trusted(world: World) -> None:
    error = _refusal(
        world, "production", trust_store="production", test_tdx_roots=(), vendor_roots=()
    )
    assert error.check == "tdx.quote.chain"


def test_debug_td(world: World) -> None:
    error = _refusal(world, "debug", directory_url=world.directories["debug"], min_nodes=1)
    assert error.check == "policy.debug"


def test_intel_tcb_status_not_accepted(world: World) -> None:
    error = _refusal(world, "low", directory_url=world.directories["low-tcb"], min_nodes=1)
    assert error.check == "policy.tcb"
    assert "OutOfDate" in str(error)


def test_measurement_not_the_releases(world: World) -> None:
    error = _refusal(world, "liar", directory_url=world.directories["liar"], min_nodes=1)
    assert error.check == "policy.measurement"


def test_stale_checkpoint_binding(world: World) -> None:
    time.sleep(4)  # let the stale node's one checkpoint age past this device's 3 s
    error = _refusal(
        world,
        "stale",
        directory_url=world.directories["stale"],
        min_nodes=1,
        evidence_checkpoint_max_age=3,
    )
    assert error.check == "binding.checkpoint.age"


def _audit_node(world: World, node: str) -> subprocess.CompletedProcess[str]:
    ledger = world.cluster.parties["ledger"].url
    command = [sys.executable, "-m", "privproc", "audit", "--url", ledger, "--json"]
    command += ["--node", world.cluster.parties[node].url]
    command += ["--config", str(world.home / "client" / "config.json")]
    return subprocess.run(
        command, env=env(), capture_output=True, text=True, timeout=120, check=False
    )


def test_audit_node_verifies_a_tdx_node_for_a_fresh_nonce(world: World) -> None:
    done = _audit_node(world, "enclave-1")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    attested = [line["attestation"] for line in lines if "attestation" in line]
    assert len(attested) == 1
    assert attested[0]["platform"] == "tdx"
    assert set(attested[0]["checks"]) >= TDX_CHECKS
