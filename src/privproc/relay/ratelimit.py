"""Per-client-address rate limiting with token buckets, kept in memory only.

A pure value-and-clock module: callers pass ``now`` (seconds, monotonic), so
tests move the clock. The table of buckets is bounded: when it is full the
least recently seen address is forgotten (a forgotten address starts full,
which only ever errs toward letting a client through, never toward storing more).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from privproc.errors import MisuseError

__all__ = ["RateLimiter"]


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets keyed by client address: ``rate`` tokens/s up to ``burst``."""

    __slots__ = ("_buckets", "_burst", "_max_clients", "_rate")

    def __init__(self, rate: float, burst: int, *, max_clients: int = 65536) -> None:
        if rate <= 0 or burst < 1 or max_clients < 1:
            raise MisuseError("rate limiter needs rate > 0, burst >= 1, max_clients >= 1")
        self._rate = rate
        self._burst = float(burst)
        self._max_clients = max_clients
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def allow(self, client: str, now: float) -> bool:
        """Take one token from ``client``'s bucket; False when it is empty."""
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = _Bucket(self._burst, now)
            self._buckets[client] = bucket
            if len(self._buckets) > self._max_clients:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(self._burst, bucket.tokens + elapsed * self._rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False

    def __len__(self) -> int:
        return len(self._buckets)
