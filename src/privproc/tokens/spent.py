"""The spent-token store's contract: what the redeemer needs (the stores are adapters,
:mod:`privproc.stores.spent`: SQLite by default, Redis for replicas).

Keys are opaque fixed-size byte strings (the redeemer passes a hash of key id and nonce),
so a store never holds a token, a challenge or anything that names an account.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["SpentStore"]


@runtime_checkable
class SpentStore(Protocol):
    """Where redeemed tokens are remembered (the contract tests hold every implementation).

    ``spend(key, expires_at=..., now=...)`` returns True when ``key`` was not spent
    (and marks it spent until ``expires_at``, a Unix time), False when it was
    already spent and has not expired. Raises StoreError when the store fails.
    """

    def spend(self, key: bytes, *, expires_at: float, now: float) -> bool:
        """Atomically mark ``key`` spent; True if this call spent it."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
