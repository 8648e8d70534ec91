"""The node in process: evidence binds the current key, rotation keeps a grace window."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from privproc.attestation import Evidence, Policy, verify
from privproc.attestation.simulated import SimulatedVendor
from privproc.enclave.node import Node
from privproc.enclave.platform import VENDOR_EPOCH, Hardware
from privproc.enclave.worker import ChildFailedError
from privproc.errors import AttestationError, DecodeError, UnknownKeyError
from privproc.sealed import seal_request

MEASUREMENT = bytes(range(48))
REWRITE = json.dumps(
    {"feature": "rewrite", "draft": "can u come", "tones": ["friendly"], "language": "en"}
).encode()


def _node(now: list[float]) -> tuple[Node, SimulatedVendor]:
    vendor = SimulatedVendor.from_seed(b"n" * 32, not_before=VENDOR_EPOCH)
    hw = Hardware.for_node(vendor, "node-x", MEASUREMENT)
    backend: Any = None  # the rewrite feature runs on rules without a model
    node = Node("node-x", hw, backend, key_lifetime=10, key_grace=5, clock=lambda: now[0])
    return node, vendor


def _doc(node: Node) -> dict[str, Any]:
    return dict(json.loads(node.evidence_document()))


def test_evidence_binds_the_published_key() -> None:
    now = [1_800_000_000.0]
    node, vendor = _node(now)
    doc = _doc(node)
    evidence = Evidence.decode(base64.b64decode(doc["evidence"]))
    policy = Policy(measurements=frozenset({MEASUREMENT}), simulated_roots=(vendor.root_der,))
    verified = verify(evidence, policy=policy, now=datetime.fromtimestamp(now[0], UTC))
    assert verified.node_key == base64.b64decode(doc["public_key"])
    assert doc["measurement"] == MEASUREMENT.hex()


def test_rotation_grace_then_destroyed() -> None:
    now = [1_800_000_000.0]
    node, _ = _node(now)
    old = base64.b64decode(_doc(node)["public_key"])
    sealed, secret = seal_request(REWRITE, [old])
    now[0] += 10
    node.tick()
    assert base64.b64decode(_doc(node)["public_key"]) != old
    # Retiring: a request sealed from a cached bundle still opens, in a forked child.
    answer = asyncio.run(node.process(sealed))
    _, payload = secret.open_response(answer)
    assert json.loads(payload)["rewrites"]["rewrites"]["friendly"]
    now[0] += 5
    node.tick()
    with pytest.raises(UnknownKeyError):
        asyncio.run(node.process(sealed))


def test_request_for_other_nodes_is_refused_without_forking() -> None:
    now = [1_800_000_000.0]
    node, _ = _node(now)
    other, _ = _node(now)
    sealed, _ = seal_request(REWRITE, [base64.b64decode(_doc(other)["public_key"])])
    with pytest.raises(UnknownKeyError):
        asyncio.run(node.process(sealed))


def test_tampered_request_fails_in_the_child_with_a_code() -> None:
    now = [1_800_000_000.0]
    node, _ = _node(now)
    sealed, _ = seal_request(REWRITE, [base64.b64decode(_doc(node)["public_key"])])
    bad = sealed[:-1] + bytes([sealed[-1] ^ 1])
    with pytest.raises(ChildFailedError) as info:
        asyncio.run(node.process(bad))
    assert info.value.code == "open-failed"


def test_evidence_binds_the_witnessed_checkpoint_and_is_remade_for_a_new_one() -> None:
    import hashlib

    now = [1_800_000_000.0]
    node, _ = _node(now)
    assert _doc(node)["witnessed"] is None
    first, grown = b"log\n1\nroot\n\n- sig\n", b"log\n2\nroot\n\n- sig\n"
    for note in (first, grown):  # a first note, then a larger log: bound at once
        node.bind_checkpoint(note)
        doc = _doc(node)
        evidence = Evidence.decode(base64.b64decode(doc["evidence"]))
        assert doc["witnessed"] == note.decode()
        assert evidence.freshness[8:] == hashlib.sha256(note).digest()
    recosigned = b"log\n2\nroot\n\n- sig2\n"  # same size: bound at the next refresh
    node.bind_checkpoint(recosigned)
    assert _doc(node)["witnessed"] == grown.decode()
    now[0] += 301  # evidence_refresh (default 300 s) passes
    node.tick()
    doc = _doc(node)
    assert doc["witnessed"] == recosigned.decode()
    evidence = Evidence.decode(base64.b64decode(doc["evidence"]))
    assert evidence.freshness[8:] == hashlib.sha256(recosigned).digest()


def test_evidence_document_is_made_once_per_evidence_and_remade_on_rotation() -> None:
    """Issue 18: the polled document is cached; rotation, refresh and a new witnessed
    checkpoint each make new evidence, and the cache never serves the old one."""
    now = [1_800_000_000.0]
    node, _ = _node(now)
    first = node.evidence_document()
    assert node.evidence_document() is first  # cached: no JSON per poll
    now[0] += 1
    node.tick()  # nothing due
    assert node.evidence_document() is first
    now[0] += 10  # key_lifetime: a new key is published
    node.tick()
    rotated = node.evidence_document()
    assert rotated != first
    assert json.loads(rotated)["key_id"] == node.ring.current().key_id.hex()
    assert json.loads(rotated)["key_id"] != json.loads(first)["key_id"]
    assert json.loads(rotated)["evidence"] != json.loads(first)["evidence"]
    node.bind_checkpoint(b"log\n1\nroot\n\n- sig\n")
    bound = node.evidence_document()
    assert json.loads(bound)["witnessed"] == "log\n1\nroot\n\n- sig\n"
    assert json.loads(bound)["key_id"] == json.loads(rotated)["key_id"]
    now[0] += 301  # evidence_refresh passes (and the key rotates again): fresh evidence
    node.tick()
    refreshed = node.evidence_document()
    assert json.loads(refreshed)["evidence"] != json.loads(bound)["evidence"]
    assert node.evidence_document() is refreshed


def test_interactive_attestation_binds_the_callers_nonce() -> None:
    now = [1_800_000_000.0]
    node, vendor = _node(now)
    nonce = bytes(range(32))
    doc = json.loads(node.attestation_document(nonce))
    assert doc["model_digest"] == node.model_digest.hex()  # audit --node compares it
    assert doc["gpu"] is None  # no GPU on the simulated platform
    evidence = Evidence.decode(base64.b64decode(doc["evidence"]))
    policy = Policy(measurements=frozenset({MEASUREMENT}), simulated_roots=(vendor.root_der,))
    verified = verify(evidence, policy=policy, now=evidence.timestamp, nonce=nonce)
    assert verified.node_key == base64.b64decode(doc["public_key"])
    with pytest.raises(AttestationError) as info:
        verify(evidence, policy=policy, now=evidence.timestamp, nonce=bytes(32))
    assert info.value.check == "binding.freshness"
    with pytest.raises(DecodeError):
        node.attestation_document(b"short")
