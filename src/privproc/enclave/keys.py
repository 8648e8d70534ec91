"""The node key lifecycle (the one table of :mod:`privproc.keylife`), and the in-memory key ring.

::

    generated --publish--> published --retire--> retiring --destroy--> destroyed
        \\_______________________destroy_________________________________/^

A key is *generated* in memory, *published* once evidence binding it exists
(clients may seal to it), *retiring* once a newer key is published (it still
opens requests sealed from a cached bundle, for a grace period), then
*destroyed*: its private key is dropped, so a later compromise of the node
reveals nothing sealed to it (DESIGN.md guarantee 5).
Nothing here touches disk; time and randomness are passed in.

A private key lives only inside a ``cryptography`` key object, never as ``bytes``
(issue 12 item 4): it is generated inside OpenSSL
(:func:`privproc.sealed.generate_node_key`), the ring keeps that one object,
:meth:`KeyRing.private_key` hands out the same object (no copy per request), and
destroying the key drops the ring's reference, so OpenSSL frees the key and clears
its bytes (tests/unit/enclave/test_key_destruction.py scans the process for them).
Python ``bytes`` cannot be wiped, which is why the ring refuses them. The only other
copy is a forked request child's (it inherits the object and exits). A caller that
keeps a reference keeps the key alive: nothing in the node does.

Request children forked ahead of their request (:mod:`.prefork`, issue 18) hold keys
too, so their life is tied to the key's here, in two more tables:

=========== ============================================================================
key state   request children holding it (:data:`POOL_POLICY`)
=========== ============================================================================
generated   none: no child is forked for a key that is not yet published
published   ``prefork`` idle children, each forked *after* the key was published; a
            child holds this one node key (it drops every other right after its fork)
retiring    none idle: rotation kills the idle children (children forked before a
            rotation never serve the new key); a request sealed to the old key forks
            its own child holding only that key
destroyed   none: every child holding it is killed, serving ones included
=========== ============================================================================

A child's own life (:data:`CHILD_TRANSITIONS`)::

    forked --ready--> ready --take--> serving --answer--> exited
       \\____________take_____________^    \\--fail--> killed
    forked --fail--> killed    forked|ready --retire|destroy--> killed
    serving --destroy--> killed

It serves exactly one request: ``take`` leaves ``ready`` once and nothing leads back.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from privproc.errors import MisuseError, UnknownKeyError
from privproc.hpke import PrivateKey
from privproc.keylife import TRANSITIONS, USABLE, KeyState
from privproc.keylife import step as _next
from privproc.sealed import node_key_id

__all__ = [
    "CHILD_TRANSITIONS",
    "POOL_POLICY",
    "TRANSITIONS",
    "ChildState",
    "KeyRing",
    "KeyState",
    "NodeKeyView",
    "PoolPolicy",
    "key_id_of",
]


class PoolPolicy(enum.Enum):
    """Which request children may hold a key in a given state."""

    NONE = "none"
    PREFORK = "prefork"
    ON_DEMAND = "on-demand"


#: key state -> request children allowed to hold the key (module docstring).
POOL_POLICY: dict[KeyState, PoolPolicy] = {
    KeyState.GENERATED: PoolPolicy.NONE,
    KeyState.PUBLISHED: PoolPolicy.PREFORK,
    KeyState.RETIRING: PoolPolicy.ON_DEMAND,
    KeyState.DESTROYED: PoolPolicy.NONE,
}


class ChildState(enum.Enum):
    """Where a request child forked ahead of its request is in its life."""

    FORKED = "forked"
    READY = "ready"
    SERVING = "serving"
    EXITED = "exited"
    KILLED = "killed"


#: (child state, event) -> next state; anything else is a MisuseError (module docstring).
CHILD_TRANSITIONS: dict[tuple[ChildState, str], ChildState] = {
    (ChildState.FORKED, "ready"): ChildState.READY,
    (ChildState.FORKED, "take"): ChildState.SERVING,
    (ChildState.READY, "take"): ChildState.SERVING,
    (ChildState.SERVING, "answer"): ChildState.EXITED,
    (ChildState.SERVING, "fail"): ChildState.KILLED,
    (ChildState.SERVING, "destroy"): ChildState.KILLED,
    (ChildState.FORKED, "fail"): ChildState.KILLED,
    (ChildState.FORKED, "retire"): ChildState.KILLED,
    (ChildState.READY, "retire"): ChildState.KILLED,
    (ChildState.FORKED, "destroy"): ChildState.KILLED,
    (ChildState.READY, "destroy"): ChildState.KILLED,
}


def key_id_of(public_key: bytes) -> bytes:
    """The 32-byte id of a node public key, as sealed requests name it (docs/e2e.md)."""
    return node_key_id(public_key)


@dataclass(frozen=True, slots=True)
class NodeKeyView:
    """Public facts about one key: id, public key, state and times (seconds)."""

    key_id: bytes
    public_key: bytes
    state: KeyState
    created: float
    changed: float


class _Key:
    __slots__ = ("changed", "created", "key_id", "private", "public_key", "state")

    def __init__(self, private: PrivateKey, public_key: bytes, now: float) -> None:
        if isinstance(private, bytes | bytearray | memoryview):
            raise MisuseError("key ring: a private key must be a key object, never bytes")
        self.private: PrivateKey | None = private
        self.public_key = public_key
        self.key_id = key_id_of(public_key)
        self.state = KeyState.GENERATED
        self.created = now
        self.changed = now

    def step(self, event: str, now: float) -> None:
        nxt = _next(self.state, event)
        if nxt is KeyState.DESTROYED:
            self.private = None  # the last reference: OpenSSL frees and clears the key
        self.state = nxt
        self.changed = now

    def view(self) -> NodeKeyView:
        return NodeKeyView(self.key_id, self.public_key, self.state, self.created, self.changed)


class KeyRing:
    """A node's keys, rotated on a schedule.

    ``generate()`` returns a fresh ``(private, public)`` pair: the private key as a
    ``cryptography`` key object (module docstring), the public key serialized per
    RFC 9180 §7.1.1. A key is published for ``lifetime`` seconds, then retires for
    ``grace`` seconds, then is destroyed. ``tick(now)`` applies the schedule and
    returns True when the published key changed (evidence must be remade).
    """

    __slots__ = ("_generate", "_grace", "_keys", "_lifetime")

    def __init__(
        self,
        generate: Callable[[], tuple[PrivateKey, bytes]],
        *,
        lifetime: float,
        grace: float,
    ) -> None:
        if lifetime <= 0 or grace < 0:
            raise MisuseError("key ring: lifetime must be positive, grace non-negative")
        self._generate = generate
        self._lifetime = lifetime
        self._grace = grace
        self._keys: list[_Key] = []

    def tick(self, now: float) -> bool:
        """Rotate and destroy as the schedule says; True when a new key was published."""
        changed = False
        current = self._current()
        if current is None or now - current.changed >= self._lifetime:
            private, public = self._generate()
            fresh = _Key(private, public, now)
            self._keys.append(fresh)
            fresh.step("publish", now)
            if current is not None:
                current.step("retire", now)
            changed = True
        for key in self._keys:
            if key.state is KeyState.RETIRING and now - key.changed >= self._grace:
                key.step("destroy", now)
        self._keys = [k for k in self._keys if k.state is not KeyState.DESTROYED] + [
            k for k in self._keys if k.state is KeyState.DESTROYED
        ][-8:]
        return changed

    def keep_only(self, key_id: bytes, now: float) -> None:
        """Destroy every key but ``key_id`` (a request child's copy of the ring, right
        after its fork: the child holds no key it does not need)."""
        for key in self._keys:
            if key.key_id != key_id and key.state is not KeyState.DESTROYED:
                key.step("destroy", now)

    def destroy_all(self, now: float) -> None:
        """Destroy every key (shutdown)."""
        for key in self._keys:
            if key.state is not KeyState.DESTROYED:
                key.step("destroy", now)

    def _current(self) -> _Key | None:
        for key in reversed(self._keys):
            if key.state is KeyState.PUBLISHED:
                return key
        return None

    def current(self) -> NodeKeyView:
        """The published key (call ``tick`` first)."""
        key = self._current()
        if key is None:
            raise MisuseError("key ring: no published key yet")
        return key.view()

    def private_key(self, key_id: bytes) -> PrivateKey:
        """The private key object for ``key_id`` while it is published or retiring.

        The ring's own object, not a copy (module docstring); do not keep it.
        """
        for key in self._keys:
            if key.key_id == key_id and key.state in USABLE and key.private is not None:
                return key.private
        raise UnknownKeyError("no usable node key with that id; refetch the node bundle")

    def views(self) -> list[NodeKeyView]:
        """Every key the ring remembers, oldest first."""
        return [k.view() for k in self._keys]
