from __future__ import annotations

from collections.abc import Callable

import pytest

from privproc.enclave.keys import TRANSITIONS, KeyRing, KeyState, key_id_of
from privproc.errors import MisuseError, UnknownKeyError
from privproc.hpke import PrivateKey
from privproc.sealed import generate_node_key


def _generator() -> tuple[list[PrivateKey], Callable[[], tuple[PrivateKey, bytes]]]:
    made: list[PrivateKey] = []

    def generate() -> tuple[PrivateKey, bytes]:
        sk, pk = generate_node_key()
        made.append(sk)
        return sk, pk

    return made, generate


def test_schedule_publish_retire_destroy() -> None:
    made, generate = _generator()
    ring = KeyRing(generate, lifetime=10, grace=5)
    assert ring.tick(0.0)
    first = ring.current()
    assert first.state is KeyState.PUBLISHED
    assert ring.private_key(first.key_id) is made[0]  # the ring's object, no copy
    assert not ring.tick(9.0)
    assert ring.tick(10.0)
    second = ring.current()
    assert second.key_id != first.key_id
    states = {v.key_id: v.state for v in ring.views()}
    assert states[first.key_id] is KeyState.RETIRING
    assert ring.private_key(first.key_id) is made[0]  # grace: still opens
    ring.tick(15.0)
    states = {v.key_id: v.state for v in ring.views()}
    assert states[first.key_id] is KeyState.DESTROYED
    with pytest.raises(UnknownKeyError):
        ring.private_key(first.key_id)
    assert ring.private_key(second.key_id) is made[1]


def test_destroy_all_and_unknown() -> None:
    _, generate = _generator()
    ring = KeyRing(generate, lifetime=10, grace=5)
    ring.tick(0.0)
    key = ring.current()
    ring.destroy_all(1.0)
    with pytest.raises(UnknownKeyError):
        ring.private_key(key.key_id)
    with pytest.raises(UnknownKeyError):
        ring.private_key(b"\xff" * 32)
    with pytest.raises(MisuseError):
        ring.current()


def test_table_has_no_way_back_from_destroyed() -> None:
    assert not [k for k in TRANSITIONS if k[0] is KeyState.DESTROYED]
    assert TRANSITIONS[(KeyState.PUBLISHED, "retire")] is KeyState.RETIRING


def test_key_id_is_bound_to_key() -> None:
    assert key_id_of(b"a" * 32) != key_id_of(b"b" * 32)
    assert len(key_id_of(b"a" * 32)) == 32


def test_bad_schedule() -> None:
    with pytest.raises(MisuseError):
        KeyRing(generate_node_key, lifetime=0, grace=1)


def test_ring_refuses_private_keys_as_bytes() -> None:
    # Issue 12 item 4: bytes cannot be wiped, so the ring holds key objects only.
    ring = KeyRing(lambda: (b"\x00" * 32, b"\x01" * 32), lifetime=10, grace=5)  # type: ignore[arg-type,return-value]
    with pytest.raises(MisuseError, match="never bytes"):
        ring.tick(0.0)
