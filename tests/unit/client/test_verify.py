"""The device's verifier against an in-memory world: the happy path and every refusal."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import timedelta

import pytest

from privproc import ohttp
from privproc.attestation.simulated import SimulatedVendor
from privproc.client.verify import verify_directory
from privproc.enclave.platform import VENDOR_EPOCH
from privproc.errors import (
    AttestationError,
    ConfigError,
    ForkError,
    LedgerError,
    MisuseError,
    VerificationError,
)
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.merkle import MemoryTree, consistency_proof
from privproc.ledger.note import Note
from tests._world import GOOD, NOW, ROGUE, NodeSpec, World, loads


def _verify(world: World, *, quorum: int = 2, seen: Checkpoint | None = None) -> object:
    keys, bundle = world.documents()
    return verify_directory(keys, bundle, world.trust(quorum), now=NOW, seen=seen)


def _only(spec: NodeSpec) -> World:
    return World(nodes=[spec])


def test_happy_path() -> None:
    world = World()
    keys, bundle = world.documents()
    result = verify_directory(keys, bundle, world.trust(), now=NOW, seen=None)
    assert [n.node for n in result.nodes] == ["node-1", "node-2", "node-3"]
    assert {n.node_key for n in result.nodes} == {n.public_key for n in world.nodes}
    assert result.key_config.config == world.gateway.config
    assert result.checkpoint.size == 2
    checks = [s.check for s in result.trail]
    assert "checkpoint" in checks
    assert "keyconfig.consistency" in checks
    assert "attestation" in checks
    assert "release.model" in checks
    assert all(s.ok for s in result.trail)
    assert all(n.model_digest == bytes(32) for n in result.nodes)


def test_node_measurement_not_in_ledger() -> None:
    with pytest.raises(LedgerError) as info:
        _verify(_only(NodeSpec("rogue", measurement=ROGUE)))
    assert info.value.check == "release.missing"


def test_node_naming_another_model_is_refused() -> None:
    with pytest.raises(LedgerError) as info:
        _verify(_only(NodeSpec("swapped-model", model_digest=b"\x01" * 32)))
    assert info.value.check == "release.model"
    assert "0101010101010101..." in str(info.value)


def test_node_naming_no_model_is_refused() -> None:
    with pytest.raises(LedgerError) as info:
        _verify(_only(NodeSpec("silent", model_digest=None)))
    assert info.value.check == "release.model"
    assert "no model digest" in str(info.value)


def test_rogue_node_is_left_out_of_a_mixed_set() -> None:
    world = World(
        nodes=[NodeSpec("node-1"), NodeSpec("rogue", measurement=ROGUE), NodeSpec("node-2")]
    )
    keys, bundle = world.documents()
    result = verify_directory(keys, bundle, world.trust(), now=NOW, seen=None)
    assert [n.node for n in result.nodes] == ["node-1", "node-2"]
    failed = [s for s in result.trail if not s.ok]
    assert [(s.subject, s.check) for s in failed] == [("rogue", "release.missing")]


def test_debug_on() -> None:
    with pytest.raises(AttestationError) as info:
        _verify(_only(NodeSpec("dbg", debug=True)))
    assert info.value.check == "policy.debug"


def test_stale_evidence() -> None:
    with pytest.raises(AttestationError) as info:
        _verify(_only(NodeSpec("old", age=timedelta(hours=2))))
    assert info.value.check == "policy.freshness"


def test_key_not_bound() -> None:
    with pytest.raises(AttestationError) as info:
        _verify(_only(NodeSpec("swapped", swap_key=True)))
    assert info.value.check.startswith("binding.")


def test_advertised_key_must_be_the_bound_one() -> None:
    world = World(nodes=[NodeSpec("n")])
    keys, bundle = world.documents()
    doc = loads(bundle)
    other = World(nodes=[NodeSpec("x"), NodeSpec("y")])
    doc["nodes"][0]["public_key"] = other.node_doc(other.nodes[1])["public_key"]
    with pytest.raises(VerificationError) as info:
        verify_directory(keys, json.dumps(doc).encode(), world.trust(), now=NOW, seen=None)
    assert info.value.check == "bundle.node_key"


def test_ledger_fork() -> None:
    world = World()
    keys, bundle = world.documents()
    served = Checkpoint.parse(Note.decode(loads(bundle)["checkpoint"].encode()).text)
    forked = Checkpoint(served.origin, served.size, bytes(32))
    with pytest.raises(ForkError) as info:
        verify_directory(keys, bundle, world.trust(), now=NOW, seen=forked)
    assert info.value.check == "ledger.fork"


def test_rollback() -> None:
    world = World()
    keys, bundle = world.documents()
    served = Checkpoint.parse(Note.decode(loads(bundle)["checkpoint"].encode()).text)
    newer = Checkpoint(served.origin, served.size + 5, bytes(32))
    with pytest.raises(ForkError) as info:
        verify_directory(keys, bundle, world.trust(), now=NOW, seen=newer)
    assert info.value.check == "ledger.rollback"


def test_missing_witness_cosignature() -> None:
    with pytest.raises(LedgerError) as info:
        _verify(World(witnesses_signing=1))
    assert info.value.check == "ledger.cosignatures.quorum"


def test_key_config_not_in_ledger() -> None:
    with pytest.raises(LedgerError) as info:
        _verify(World(record_key_config=False))
    assert info.value.check == "keyconfig.ledger"


def test_served_key_config_differs_from_recorded() -> None:
    world = World()
    _, bundle = world.documents()
    other = ohttp.encode_list([ohttp.ServerKey.derive(7, b"h" * 32).config])
    with pytest.raises(LedgerError) as info:
        verify_directory(other, bundle, world.trust(), now=NOW, seen=None)
    assert info.value.check == "keyconfig.consistency"


def test_untrusted_vendor_root() -> None:
    world = World()
    keys, bundle = world.documents()
    trust = world.trust()
    stranger = SimulatedVendor.from_seed(b"s" * 32, not_before=VENDOR_EPOCH)
    trust = dataclasses.replace(trust, vendor_roots=(stranger.root_der,))
    with pytest.raises(AttestationError) as info:
        verify_directory(keys, bundle, trust, now=NOW, seen=None)
    assert info.value.check == "simulated.endorsement.chain"


def test_garbage_bundle() -> None:
    world = World()
    keys, _ = world.documents()
    with pytest.raises(VerificationError) as info:
        verify_directory(keys, b"{not json", world.trust(), now=NOW, seen=None)
    assert info.value.check == "bundle.decode"


def test_consistency_with_an_older_seen_checkpoint() -> None:
    world = World(extra_entries=3)
    keys, bundle = world.documents()
    entries = world.entries()
    tree = MemoryTree()
    for e in entries:
        tree.append(e)
    served = Checkpoint.parse(Note.decode(loads(bundle)["checkpoint"].encode()).text)
    older = Checkpoint(served.origin, 2, tree.root(2))
    proof = consistency_proof(tree, 2, len(entries))
    result = verify_directory(keys, bundle, world.trust(), now=NOW, seen=older, consistency=proof)
    assert result.newest == served
    with pytest.raises(ForkError) as info:
        verify_directory(keys, bundle, world.trust(), now=NOW, seen=older, consistency=proof[1:])
    assert info.value.check == "ledger.consistency"


def test_revoked_release_is_refused() -> None:
    with pytest.raises(LedgerError) as info:
        _verify(World(revocations=[("measurement", GOOD, 2)]))
    assert info.value.check == "release.revoked"


def test_revoked_key_config_is_refused() -> None:
    world = World()
    target = hashlib.sha256(world.gateway.config.encode()).digest()
    world.revocations.append(("key_config", target, 2))
    with pytest.raises(LedgerError) as info:
        _verify(world)
    assert info.value.check == "keyconfig.revoked"


def test_revocation_by_another_signer_or_of_another_target_revokes_nothing() -> None:
    world = World(revocations=[("measurement", GOOD, 3), ("measurement", ROGUE, 2)])
    keys, bundle = world.documents()
    result = verify_directory(keys, bundle, world.trust(), now=NOW, seen=None)
    assert len(result.nodes) == 3
    assert "entries" in [s.check for s in result.trail]


def test_bundle_without_entries_is_refused() -> None:
    world = World()
    keys, bundle = world.documents()
    doc = loads(bundle)
    del doc["entries"]
    with pytest.raises(LedgerError) as info:
        verify_directory(keys, json.dumps(doc).encode(), world.trust(), now=NOW, seen=None)
    assert info.value.check == "ledger.entries"


def test_entries_hiding_a_revocation_are_refused() -> None:
    world = World(revocations=[("measurement", GOOD, 2)])
    keys, bundle = world.documents()
    doc = loads(bundle)
    # The directory drops the revocation: the count no longer covers the checkpoint.
    dropped = {**doc, "entries": doc["entries"][:-1]}
    with pytest.raises(LedgerError) as info:
        verify_directory(keys, json.dumps(dropped).encode(), world.trust(), now=NOW, seen=None)
    assert info.value.check == "ledger.entries.count"
    # ... or swaps it for another entry: the entries no longer hash to the root.
    swapped = {**doc, "entries": [*doc["entries"][:-1], doc["entries"][0]]}
    with pytest.raises(LedgerError) as info:
        verify_directory(keys, json.dumps(swapped).encode(), world.trust(), now=NOW, seen=None)
    assert info.value.check == "ledger.entries.root"


def test_too_few_nodes_one_node_bundle_is_refused() -> None:
    """A bundle with one (valid) node would let K fall to 1: refused by default."""
    world = _only(NodeSpec("node-1"))
    keys, bundle = world.documents()
    with pytest.raises(VerificationError) as info:
        verify_directory(keys, bundle, world.trust(), now=NOW, seen=None)
    assert info.value.check == "bundle.too_few_nodes"
    assert (info.value.expected, info.value.found) == ("at least 2", 1)


def test_too_few_nodes_after_leaving_out_a_rogue_one() -> None:
    world = World(nodes=[NodeSpec("node-1"), NodeSpec("rogue", measurement=ROGUE)])
    keys, bundle = world.documents()
    with pytest.raises(VerificationError) as info:
        verify_directory(keys, bundle, world.trust(), now=NOW, seen=None)
    assert info.value.check == "bundle.too_few_nodes"
    assert "release.missing" in str(info.value)


def test_too_few_nodes_is_the_policy_minimum() -> None:
    world = World()  # three nodes
    keys, bundle = world.documents()
    with pytest.raises(VerificationError) as info:
        verify_directory(
            keys, bundle, dataclasses.replace(world.trust(), min_nodes=4), now=NOW, seen=None
        )
    assert info.value.check == "bundle.too_few_nodes"
    one = _only(NodeSpec("node-1"))
    keys, bundle = one.documents()
    relaxed = dataclasses.replace(one.trust(), min_nodes=1)  # an explicit opt-out only
    assert len(verify_directory(keys, bundle, relaxed, now=NOW, seen=None).nodes) == 1
    with pytest.raises(MisuseError):
        dataclasses.replace(one.trust(), min_nodes=0)


def test_too_few_nodes_defaults_in_client_config_and_cluster() -> None:
    from privproc.client.config import ClientConfig
    from privproc.cluster.launch import ClusterSpec

    fields = {
        "relay_url": "http://r", "directory_url": "http://d", "issuer_url": "http://i",
        "account": "a", "issuer_name": "i", "origin": "o", "vendor_roots": (),
        "log_vkey": "l", "witness_vkeys": ("w",), "quorum": 1, "publisher_vkey": "p",
    }  # fmt: skip
    assert ClientConfig(**fields).min_nodes == 2  # type: ignore[arg-type]
    with pytest.raises(ConfigError):
        ClientConfig(**fields, min_nodes=0)  # type: ignore[arg-type]
    assert ClusterSpec().nodes >= ClusterSpec().min_nodes == 2
    with pytest.raises(ConfigError):
        ClusterSpec(nodes=1)
