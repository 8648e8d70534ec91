"""``privproc audit --node``'s check (``verify_attestation``): the same policy as the device.

The answer to ``GET /attestation?nonce=`` is built by tests/_world.py from the real
emulated platforms; the auditor's entries are the world's ledger entries. Beyond the CPU
evidence, a ``+nvidia-cc`` release's GPU report is checked with the device's
``_check_gpu`` and the node's model digest must be the release's (``release.model``).
"""

from __future__ import annotations

import json

import pytest

from privproc.attestation.nvgpu.verify import GPU_CHECKS
from privproc.client.verify import AttestedNode, verify_attestation
from privproc.enclave.platform import NODE_TCB
from privproc.errors import AttestationError, LedgerError
from tests._world import NOW, NodeSpec, World

NONCE = bytes(range(32))


def _attest(world: World, spec: NodeSpec, **changes: object) -> AttestedNode:
    world = World(platform=world.platform, min_tcb=world.min_tcb, nodes=[spec])  # keys derived
    doc = world.node_doc(spec, NONCE)
    doc.update(changes)
    return verify_attestation(
        json.dumps(doc).encode(),
        nonce=NONCE,
        entries=world.entries(),
        trust=world.trust(),
        now=NOW,
    )


def _gpu_world() -> World:
    return World(platform="sev-snp+nvidia-cc", min_tcb=NODE_TCB)


def test_gpu_release_checks_the_gpu_report_and_the_model() -> None:
    node = _attest(_gpu_world(), NodeSpec("n"))
    assert node.gpu_checks == GPU_CHECKS
    assert node.model_digest == bytes(32)
    assert "sevsnp.report.signature" in node.verified.checks


@pytest.mark.parametrize(
    ("spec", "check"),
    [
        (NodeSpec("dev", gpu_devtools=True), "nvgpu.measurement"),
        (NodeSpec("unbound", gpu_unbound=True), "nvgpu.report.nonce"),
    ],
)
def test_gpu_refusals(spec: NodeSpec, check: str) -> None:
    with pytest.raises(AttestationError) as info:
        _attest(_gpu_world(), spec)
    assert info.value.check == check


def test_gpu_release_without_gpu_evidence() -> None:
    with pytest.raises(AttestationError) as info:
        _attest(_gpu_world(), NodeSpec("n"), gpu=None)
    assert info.value.check == "nvgpu.report.format"


@pytest.mark.parametrize("platform", ["simulated", "tdx"])
def test_cpu_only_releases_need_no_gpu(platform: str) -> None:
    node = _attest(World(platform=platform), NodeSpec("n"))
    assert node.gpu_checks == ()
    assert node.release.platform == platform


@pytest.mark.parametrize(
    "spec", [NodeSpec("other", model_digest=b"\x01" * 32), NodeSpec("none", model_digest=None)]
)
def test_model_not_the_releases(spec: NodeSpec) -> None:
    with pytest.raises(LedgerError) as info:
        _attest(World(), spec)
    assert info.value.check == "release.model"
