"""Emulated SEV-SNP on the live path: real processes, real sockets, the real SNP verifier.

One cluster for the module (``platform="sev-snp-emulated"``): 2 released nodes, then a
debuggable guest, a node certified below the release's minimum TCB, and a node whose
emulated firmware measured another image than the one it advertises, and a node that
binds the first witnessed checkpoint it fetched and never a newer one (stale). Each refusal
goes through a directory that lists only the bad node, and a device whose relay is a
closed port: had anything been sealed and sent, the error would be a transport error,
not the named attestation check.
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


@dataclass
class World:
    home: Path
    cluster: Cluster
    config: ClientConfig
    directories: dict[str, str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("hardware") / "home"
    spec = ClusterSpec(
        nodes=2,
        debug_nodes=1,
        low_tcb_nodes=1,
        lying_nodes=1,
        stale_nodes=1,
        platform="sev-snp-emulated",
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


def test_released_emulated_nodes_answer_through_the_real_snp_verifier(world: World) -> None:
    with open_device(world.home / "client") as device:
        verified = device.verify(force=True)
        checks = {s.check for s in verified.trail}
        assert "trust.test_store" in checks
        # the stale node's checkpoint is still within this device's 600 s
        assert {n.node for n in verified.nodes} == {"enclave-1", "enclave-2", "enclave-6"}
        for node in verified.nodes:
            assert node.verified.platform.name == "SEV_SNP"
            assert len(node.verified.freshness) == 8 + 32  # timestamp || SHA-256(checkpoint)
            assert {"sevsnp.vcek.chain", "sevsnp.report.signature", "policy.tcb"} <= set(
                node.verified.checks
            )
        failed = {s.subject: s.check for s in verified.trail if not s.ok}
        assert failed == {
            "enclave-3": "policy.debug",
            "enclave-4": "policy.tcb",
            "enclave-5": "policy.measurement",
        }
        answer = device.summarize(Chat.from_json(CHAT))
        assert answer.report.answered_by in {"enclave-1", "enclave-2", "enclave-6"}
        attestation = [s.detail for s in verified.trail if s.check == "attestation"]
        assert all("bound to checkpoint size" in d for d in attestation)


def test_wrong_root_the_test_root_not_trusted(world: World) -> None:
    error = _refusal(
        world, "production", trust_store="production", test_sevsnp_chains=(), vendor_roots=()
    )
    assert error.check == "sevsnp.vcek.chain"


def test_debug_guest(world: World) -> None:
    error = _refusal(world, "debug", directory_url=world.directories["debug"], min_nodes=1)
    assert error.check == "policy.debug"


def test_tcb_below_the_release_minimum(world: World) -> None:
    error = _refusal(world, "low", directory_url=world.directories["low-tcb"], min_nodes=1)
    assert error.check == "policy.tcb"


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


def test_fresh_nodes_pass_a_short_checkpoint_age(world: World) -> None:
    with _device(world, "fresh", evidence_checkpoint_max_age=30) as device:
        verified = device.verify(force=True)
    assert {"enclave-1", "enclave-2"} <= {n.node for n in verified.nodes}


def _audit_node(world: World, node: str) -> subprocess.CompletedProcess[str]:
    ledger = world.cluster.parties["ledger"].url
    command = [sys.executable, "-m", "privproc", "audit", "--url", ledger, "--json"]
    command += ["--node", world.cluster.parties[node].url]
    command += ["--config", str(world.home / "client" / "config.json")]
    return subprocess.run(
        command, env=env(), capture_output=True, text=True, timeout=120, check=False
    )


def test_audit_node_verifies_interactive_attestation_for_a_fresh_nonce(world: World) -> None:
    done = _audit_node(world, "enclave-1")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    attested = [line["attestation"] for line in lines if "attestation" in line]
    assert len(attested) == 1
    assert attested[0]["node"] == "enclave-1"
    assert attested[0]["platform"] == "sev-snp"
    assert "sevsnp.vcek.chain" in attested[0]["checks"]
    assert "policy.tcb" in attested[0]["checks"]


def test_audit_node_refuses_a_debug_guest(world: World) -> None:
    done = _audit_node(world, "enclave-3")
    assert done.returncode == 1
    last = json.loads(done.stdout.splitlines()[-1])
    assert last == {"ok": False, "check": "policy.debug", "error": last["error"]}
