"""Per-account daily token quotas: SQLite (embedded) and Redis (several issuer replicas).

:class:`QuotaStore` is the interface; ``take(account, day, limit)`` atomically counts
one token for ``account`` on ``day`` (``YYYY-MM-DD`` UTC) and returns how many it has
had that day, or raises :class:`~privproc.errors.QuotaError` (429) when that would
pass ``limit`` (the count is then left unchanged). Store failures raise
:class:`~privproc.errors.StoreError` and the issuer refuses to issue (fails closed).

``first_use(key, expires, now=...)`` is the issuers' shared replay cache: it records
``key`` (a hash of a signed request, :func:`privproc.tokens.device_auth.replay_key`)
until ``expires`` (Unix seconds) and raises
:class:`~privproc.errors.ReplayedRequestError` (check ``issuer.replay``) when the key is
already recorded and not yet expired. It lives in the quota store so that every
issuer replica sharing the quota also shares the replay cache.

The quota store is the only per-account record the issuer keeps about issuance: a
count per day and, for one skew window, a hash per signed request. It never sees
tokens, nonces or blinded messages.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol, runtime_checkable

from privproc._sqlite import open_sqlite
from privproc.errors import MisuseError, QuotaError, ReplayedRequestError, StoreError

__all__ = ["QuotaStore", "RedisQuotaStore", "SqliteQuotaStore"]

_RETENTION_S = 3 * 86400  # keep yesterday's counters a while for operators, then drop


@runtime_checkable
class QuotaStore(Protocol):
    """A per-account, per-day counter with a limit."""

    def take(self, account: str, day: str, limit: int) -> int:
        """Count one token; return the day's count; QuotaError past ``limit``."""
        ...

    def first_use(self, key: bytes, expires: float, *, now: float) -> None:
        """Record ``key`` until ``expires``; ReplayedRequestError if already recorded."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def _check(account: str, day: str, limit: int) -> None:
    if not account or len(account) > 256:
        raise MisuseError("account must be 1..256 characters")
    if len(day) != 10:
        raise MisuseError("day must be YYYY-MM-DD")
    if limit < 0:
        raise MisuseError("limit must be non-negative")


def _check_key(key: bytes) -> None:
    if not 16 <= len(key) <= 64:
        raise MisuseError("a replay key is 16..64 bytes")


def _refuse(limit: int, day: str) -> QuotaError:
    return QuotaError(f"daily token quota of {limit} used up for {day} (UTC); try tomorrow")


class SqliteQuotaStore:
    """Quota counters in one SQLite file (WAL), shared by processes on a host."""

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._db = open_sqlite(
            path,
            what="quota store",
            timeout=timeout,
            synchronous="FULL",
            schema=[
                "CREATE TABLE IF NOT EXISTS quota ("
                " account TEXT NOT NULL, day TEXT NOT NULL, used INTEGER NOT NULL,"
                " PRIMARY KEY (account, day)) WITHOUT ROWID",
                "CREATE TABLE IF NOT EXISTS replay ("
                " key BLOB NOT NULL PRIMARY KEY, expires REAL NOT NULL) WITHOUT ROWID",
                "CREATE INDEX IF NOT EXISTS replay_expires ON replay(expires)",
            ],
        )

    def take(self, account: str, day: str, limit: int) -> int:
        """One conditional upsert: the count moves only while it is below ``limit``."""
        _check(account, day, limit)
        with self._lock:
            try:
                row = self._db.execute(
                    "INSERT INTO quota(account, day, used) SELECT ?, ?, 1 WHERE ? > 0"
                    " ON CONFLICT(account, day) DO UPDATE SET used = used + 1"
                    " WHERE used < ? RETURNING used",
                    (account, day, limit, limit),
                ).fetchone()
            except sqlite3.Error as exc:
                raise StoreError(f"quota store: SQLite failed ({type(exc).__name__})") from None
        if row is None:
            raise _refuse(limit, day)
        return int(row[0])

    def first_use(self, key: bytes, expires: float, *, now: float) -> None:
        """Drop expired keys, then insert ``key`` unless a live copy is there."""
        _check_key(key)
        with self._lock:
            try:
                # Autocommit: each statement is atomic; the insert alone decides.
                self._db.execute("DELETE FROM replay WHERE expires <= ?", (now,))
                row = self._db.execute(
                    "INSERT INTO replay(key, expires) VALUES (?, ?)"
                    " ON CONFLICT(key) DO NOTHING RETURNING key",
                    (key, expires),
                ).fetchone()
            except sqlite3.Error as exc:
                raise StoreError(f"quota store: SQLite failed ({type(exc).__name__})") from None
        if row is None:
            raise ReplayedRequestError()

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


# KEYS[1] = counter; ARGV = limit, ttl. Atomic on the server: count only below the limit.
_TAKE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return -1 end
used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return used
"""


class RedisQuotaStore:
    """Quota counters in Redis: one Lua script per take, atomic across issuer replicas."""

    def __init__(
        self, url: str, *, prefix: str = "privproc:quota:", socket_timeout: float = 2.0
    ) -> None:
        import redis

        self._prefix = prefix
        try:
            self._redis = redis.Redis.from_url(
                url, socket_timeout=socket_timeout, socket_connect_timeout=socket_timeout
            )
            self._script = self._redis.register_script(_TAKE)
        except (ValueError, redis.RedisError) as exc:
            raise StoreError(f"quota store: bad Redis URL ({type(exc).__name__})") from None

    def take(self, account: str, day: str, limit: int) -> int:
        """Run the take script on ``prefix + day + ':' + account``."""
        import redis

        _check(account, day, limit)
        try:
            used = int(
                self._script(keys=[f"{self._prefix}{day}:{account}"], args=[limit, _RETENTION_S])
            )
        except redis.RedisError as exc:
            raise StoreError(f"quota store: Redis failed ({type(exc).__name__})") from None
        if used < 0:
            raise _refuse(limit, day)
        return used

    def first_use(self, key: bytes, expires: float, *, now: float) -> None:
        """``SET NX`` with an expiry on ``prefix + 'replay:' + hex(key)``."""
        import redis

        _check_key(key)
        ttl_ms = max(1, int((expires - now) * 1000))
        try:
            fresh = self._redis.set(f"{self._prefix}replay:{key.hex()}", b"1", nx=True, px=ttl_ms)
        except redis.RedisError as exc:
            raise StoreError(f"quota store: Redis failed ({type(exc).__name__})") from None
        if not fresh:
            raise ReplayedRequestError()

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()
