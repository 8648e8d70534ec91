"""``binding.checkpoint``: the evidence binds the witnessed checkpoint the bundle carries.

Fresh evidence (docs/attestation.md, "Fresh evidence"): a node's report data holds
SHA-256 of a checkpoint note; the device refuses a bundle entry that carries no note,
a note other than the one bound, or a note the log and a witness quorum did not sign,
and one cosigned too long ago (``binding.checkpoint.age``).
"""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from privproc.attestation import VerifiedNode
from privproc.client.verify import _check_witnessed, verify_directory
from privproc.errors import AttestationError
from privproc.ledger.note import Note
from tests._world import NOW, World

EPOCH = int(NOW.timestamp())


def _setup(max_age: int = 600) -> tuple[World, VerifiedNode, bytes]:
    world = World()
    keys, bundle = world.documents()
    trust = world.trust()
    node = verify_directory(keys, bundle, trust, now=NOW, seen=None).nodes[0].verified
    note = world.checkpoint_note(world.entries(), ts=EPOCH - 30)
    bound = dataclasses.replace(node, freshness=node.freshness[:8] + hashlib.sha256(note).digest())
    return world, bound, note


def _refused(note: object, node: VerifiedNode, world: World, max_age: int = 600) -> str:
    trust = dataclasses.replace(world.trust(), evidence_checkpoint_max_age=max_age)
    with pytest.raises(AttestationError) as info:
        _check_witnessed(note, node, trust, EPOCH)
    return info.value.check


def test_the_bound_witnessed_checkpoint_passes() -> None:
    world, node, note = _setup()
    trust = dataclasses.replace(world.trust(), evidence_checkpoint_max_age=600)
    detail = _check_witnessed(note.decode(), node, trust, EPOCH)
    assert "bound to checkpoint size 2 cosigned 30s ago" in detail


def test_no_note_is_refused() -> None:
    world, node, _note = _setup()
    assert _refused(None, node, world) == "binding.checkpoint"


def test_a_note_other_than_the_bound_one_is_refused() -> None:
    world, node, _note = _setup()
    other = world.checkpoint_note(world.entries(), ts=EPOCH - 10).decode()
    assert _refused(other, node, world) == "binding.checkpoint"


def test_a_note_without_the_witness_quorum_is_refused() -> None:
    world, node, note = _setup()
    decoded = Note.decode(note)
    unwitnessed = Note(decoded.text, decoded.signatures[:1]).encode()
    rebound = dataclasses.replace(
        node, freshness=node.freshness[:8] + hashlib.sha256(unwitnessed).digest()
    )
    assert _refused(unwitnessed.decode(), rebound, world) == "binding.checkpoint"


def test_a_note_cosigned_too_long_ago_is_refused_by_age() -> None:
    world, node, note = _setup()
    assert _refused(note.decode(), node, world, max_age=10) == "binding.checkpoint.age"
