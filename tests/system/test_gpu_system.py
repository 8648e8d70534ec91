"""Emulated SEV-SNP + H100 on the live path (``sev-snp+nvidia-cc-emulated``), one cluster.

Two released nodes with emulated GPUs in CC mode, and one whose GPU runs in devtools
mode. The device verifies each node's SNP report and its GPU's SPDM report (chained to
the emulated NVIDIA root in the test trust store, nonce bound to the SNP report,
measurements equal to the RIM digests the release recorded), and refuses the devtools
GPU before anything is sent (its relay is a closed port).
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from privproc.client.config import ClientConfig
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
    ],
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, ClientConfig]]:
    home = tmp_path_factory.mktemp("gpu") / "home"
    spec = ClusterSpec(nodes=2, gpu_devtools_nodes=1, platform="sev-snp+nvidia-cc-emulated")
    cluster = Cluster(home, spec)
    try:
        yield cluster, cluster.start()
    finally:
        cluster.stop()


def test_cpu_and_gpu_evidence_verified_and_devtools_gpu_left_out(
    world: tuple[Cluster, ClientConfig],
) -> None:
    cluster, _ = world
    with open_device(cluster.home / "client") as device:
        verified = device.verify(force=True)
        assert {n.node for n in verified.nodes} == {"enclave-1", "enclave-2"}
        details = [s.detail for s in verified.trail if s.check == "attestation" and s.ok]
        assert all("nvgpu.report.nonce" in d and "nvgpu.measurement" in d for d in details)
        failed = {s.subject: s.check for s in verified.trail if not s.ok}
        assert failed == {"enclave-3": "nvgpu.measurement"}
        answer = device.summarize(Chat.from_json(CHAT))
        assert answer.report.answered_by in {"enclave-1", "enclave-2"}


def test_gpu_in_devtools_mode_is_refused_before_anything_is_sent(
    world: tuple[Cluster, ClientConfig],
) -> None:
    cluster, config = world
    directory = cluster.extra_directory("directory-devtools", ["enclave-3"])
    folder = cluster.home / "client-devtools"
    folder.mkdir()
    changed = dataclasses.replace(
        config,
        directory_url=directory.url,
        relay_url="http://127.0.0.1:9/",
        min_nodes=1,
        account="acct-devtools",
    )
    (folder / "config.json").write_text(changed.dumps())
    with open_device(folder) as device, pytest.raises(AttestationError) as info:
        device.summarize(Chat.from_json(CHAT))
    assert info.value.check == "nvgpu.measurement"
    assert not (folder / "reports.jsonl").exists()


def _audit_node(cluster: Cluster, node: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "privproc", "audit", "--json"]
    command += ["--url", cluster.parties["ledger"].url, "--node", cluster.parties[node].url]
    command += ["--config", str(cluster.home / "client" / "config.json")]
    return subprocess.run(
        command, env=env(), capture_output=True, text=True, timeout=120, check=False
    )


def test_audit_node_checks_the_gpu_report_and_the_model(
    world: tuple[Cluster, ClientConfig],
) -> None:
    cluster, _ = world
    done = _audit_node(cluster, "enclave-1")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    attested = next(line["attestation"] for line in lines if "attestation" in line)
    assert attested["platform"] == "sev-snp+nvidia-cc"
    assert {"nvgpu.report.nonce", "nvgpu.measurement"} <= set(attested["gpu_checks"])
    assert len(attested["model_digest"]) == 64
    refused = _audit_node(cluster, "enclave-3")  # its GPU runs in devtools mode
    assert refused.returncode == 1
    last = json.loads(refused.stdout.splitlines()[-1])
    assert last["check"] == "nvgpu.measurement"
