"""The gateway's OHTTP key configs, on the key-consistency rule's schedule.

Each key is *current* for ``lifetime`` seconds from its ``not_before`` and stays
valid one more ``lifetime`` (``not_after = not_before + 2 * lifetime``) for devices
that verified their directory before the next key started; so at most two keys are
valid at any instant (:mod:`privproc.ledger.keyconsistency`, rule 2). The next key is
made and handed to ``on_new`` (the service records it in the ledger) ``announce``
seconds before it starts, which must exceed the devices' cosignature max age plus
clock skew (rule 4); if recording is late, the next key starts later, never with a
shorter announcement. Key ids count up modulo 256. Pure: time comes in as ``now``.

Lifecycle of one key, by time (the gateway column of :mod:`privproc.keylife`)::

    generated --(recorded)--> published: announced, current from not_before
        --(next not_before)--> retiring --(not_after)--> destroyed
        (dropped; its private key goes with the ServerKey object)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from privproc.errors import MisuseError
from privproc.keylife import KeyState, window_state
from privproc.ohttp import KeyConfig, ServerKey, encode_list

__all__ = ["ActiveKey", "GatewayKeys", "KeySource", "served_order"]


@dataclass(frozen=True, slots=True)
class ActiveKey:
    """One key and its validity window ``[not_before, not_after)`` (seconds since the epoch)."""

    key: ServerKey
    not_before: int
    not_after: int


def served_order(entries: Sequence[ActiveKey], now: int) -> list[ActiveKey]:
    """The order of ``application/ohttp-keys``: the current key first (an RFC 9458 client
    takes the first), then the announced next ones, then the previous ones."""
    ordered = sorted(entries, key=lambda k: k.not_before)
    started = [k for k in reversed(ordered) if k.not_before <= now]
    upcoming = [k for k in ordered if k.not_before > now]
    return [*started[:1], *upcoming, *started[1:]]


class KeySource(Protocol):
    """What the gateway app needs of its keys: one process's (:class:`GatewayKeys`) or the
    replicas' shared sequence (:class:`privproc.gateway.shared.SharedKeys`)."""

    def tick(self, now: int) -> bool:
        """Advance the schedule; True when a key was made."""
        ...

    @property
    def server_keys(self) -> list[ServerKey]:
        """Every key a request may be sealed to."""
        ...

    @property
    def entries(self) -> list[ActiveKey]:
        """The keys with their windows, oldest first."""
        ...

    def encoded(self) -> bytes:
        """``application/ohttp-keys`` (RFC 9458 §3.2)."""
        ...


class GatewayKeys:
    """The gateway's OHTTP keys: announced ahead, current in turn, then dropped."""

    __slots__ = (
        "_announce",
        "_keys",
        "_lifetime",
        "_make",
        "_next_id",
        "_now",
        "_on_new",
        "_save",
    )

    def __init__(
        self,
        *,
        lifetime: int,
        announce: int = 0,
        make: Callable[[int], ServerKey] = ServerKey.generate,
        on_new: Callable[[ActiveKey], None] = lambda _k: None,
        save: Callable[[Sequence[ActiveKey]], None] = lambda _k: None,
        keys: Sequence[ActiveKey] = (),
        first_id: int = 1,
    ) -> None:
        """``keys``: the sequence saved by an earlier run (``save`` gets it on each change);
        ``first_id``: the key id of the first key when there are none (a restart that
        lost its keys picks one the ledger's recorded configs do not use)."""
        if lifetime <= 0 or not 0 <= announce < lifetime:
            raise MisuseError("gateway keys: lifetime > 0 and 0 <= announce < lifetime")
        self._lifetime = lifetime
        self._announce = announce
        self._make = make
        self._on_new = on_new
        self._save = save
        self._keys: list[ActiveKey] = sorted(keys, key=lambda k: k.not_before)
        last = self._keys[-1].key.config.key_id if self._keys else first_id - 1
        self._next_id = (last + 1) % 256
        self._now = 0

    def tick(self, now: int, *, first_start: int | None = None) -> bool:
        """Drop expired keys; make the next one when it is due. True when a key was made.

        ``first_start``: when there is no key at all, when the first one starts
        (default ``now``; later when the ledger still holds another run's valid keys).
        An ``on_new`` that raises leaves the keys as they were (retried next tick).
        """
        self._now = now
        kept = [k for k, state in self.states(now) if state is not KeyState.DESTROYED]
        changed = len(kept) != len(self._keys)
        # Request handlers read the keys from another thread: replace, never mutate.
        self._keys = kept
        start: int | None = None
        if not kept:
            start = now if first_start is None else max(now, first_start)
        elif now >= kept[-1].not_before + self._lifetime - self._announce:
            start = max(kept[-1].not_before + self._lifetime, now + self._announce)
        if start is not None:
            entry = ActiveKey(self._make(self._next_id), start, start + 2 * self._lifetime)
            self._on_new(entry)
            self._next_id = (self._next_id + 1) % 256
            self._keys = [*kept, entry]
        if changed or start is not None:
            self._save(list(self._keys))
        return start is not None

    @property
    def server_keys(self) -> list[ServerKey]:
        """Every key not yet expired (a device with a fast clock may start early)."""
        return [k.key for k in self._keys]

    @property
    def configs(self) -> list[KeyConfig]:
        """Every unexpired config: the current one first (an RFC 9458 client takes the
        first), then the announced next one, then the previous ones.

        The announced key is served early so a directory cached across the switch still
        lists the config a device will find current; a privproc device picks the current
        config from the ledger, not from this order."""
        return [k.key.config for k in served_order(self._keys, self._now)]

    def encoded(self) -> bytes:
        """``application/ohttp-keys`` (RFC 9458 §3.2)."""
        return encode_list(self.configs)

    def states(self, now: int) -> list[tuple[ActiveKey, KeyState]]:
        """Each key with its lifecycle state at ``now`` (:func:`privproc.keylife.window_state`)."""
        nexts = [*(k.not_before for k in self._keys[1:]), None][: len(self._keys)]
        return [
            (k, window_state(now, k.not_before, k.not_after, superseded_at=n))
            for k, n in zip(self._keys, nexts, strict=True)
        ]

    @property
    def entries(self) -> list[ActiveKey]:
        """The keys with their windows, oldest first."""
        return list(self._keys)
