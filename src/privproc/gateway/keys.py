"""The gateway's OHTTP key configs: several active at once, rotated on a schedule.

A new :class:`~privproc.ohttp.ServerKey` is made every ``lifetime`` seconds
(key ids count up modulo 256); the newest ``active`` keys decapsulate, so a
client with a recently fetched config still gets through. Each new config is
handed to ``on_new`` (the service records it in the ledger before it is
published). Pure: time comes in as ``now``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from privproc.errors import MisuseError
from privproc.ohttp import KeyConfig, ServerKey, encode_list

__all__ = ["ActiveKey", "GatewayKeys"]


@dataclass(frozen=True, slots=True)
class ActiveKey:
    """One active key and its validity window (seconds since the epoch)."""

    key: ServerKey
    not_before: int
    not_after: int


class GatewayKeys:
    """The gateway's rotating OHTTP keys."""

    __slots__ = ("_active", "_keys", "_lifetime", "_make", "_next_id", "_on_new")

    def __init__(
        self,
        *,
        lifetime: int,
        active: int = 2,
        make: Callable[[int], ServerKey] = ServerKey.generate,
        on_new: Callable[[ActiveKey], None] = lambda _k: None,
        first_id: int = 1,
    ) -> None:
        if lifetime <= 0 or active < 1:
            raise MisuseError("gateway keys: lifetime > 0 and at least one active key")
        self._lifetime = lifetime
        self._active = active
        self._make = make
        self._on_new = on_new
        self._next_id = first_id % 256
        self._keys: list[ActiveKey] = []

    def tick(self, now: int) -> bool:
        """Rotate when the newest key is ``lifetime`` old; True when a key was added."""
        if self._keys and now < self._keys[-1].not_before + self._lifetime:
            return False
        key = self._make(self._next_id)
        self._next_id = (self._next_id + 1) % 256
        # Valid for every period in which it is among the active keys.
        entry = ActiveKey(key, now, now + self._lifetime * (self._active + 1))
        self._on_new(entry)
        self._keys = [*self._keys, entry][-self._active :]
        return True

    @property
    def server_keys(self) -> list[ServerKey]:
        """The keys that decapsulate now."""
        return [k.key for k in self._keys]

    @property
    def configs(self) -> list[KeyConfig]:
        """The public configs, newest first (clients use the first they support)."""
        return [k.key.config for k in reversed(self._keys)]

    def encoded(self) -> bytes:
        """``application/ohttp-keys`` (RFC 9458 §3.2)."""
        return encode_list(self.configs)

    @property
    def entries(self) -> list[ActiveKey]:
        """The active keys with their windows, oldest first."""
        return list(self._keys)
