"""Spent-token stores: remember each redeemed token until it could no longer verify.

:class:`~privproc.tokens.spent.SpentStore` is the interface the redeemer uses (a core
protocol); the two real implementations live here, with their I/O:

* :class:`SqliteSpentStore`, the embedded default: one file, safe across threads
  and processes on one host (SQLite serializes writers; one atomic upsert per spend).
* :class:`RedisSpentStore`, for several gateway replicas: ``SET key 1 NX PXAT expiry``,
  one round trip, atomic on the server.

Both fail closed: any failure of the backing store raises
:class:`~privproc.errors.StoreError` and the redeemer refuses the token. Keys are
opaque fixed-size byte strings (the redeemer passes a hash of key id and nonce),
so a store never holds a token, a challenge or anything that names an account.
Calls block; async services call them in a worker thread.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from privproc._sqlite import open_sqlite
from privproc.errors import MisuseError, StoreError

__all__ = ["RedisSpentStore", "SqliteSpentStore"]

_MAX_KEY = 64


def _check(key: bytes, expires_at: float, now: float) -> None:
    if not 1 <= len(key) <= _MAX_KEY:
        raise MisuseError(f"spent-store key must be 1..{_MAX_KEY} bytes")
    if expires_at <= now:
        raise MisuseError("expires_at must be in the future")


class SqliteSpentStore:
    """The embedded spent-token store: one SQLite file (WAL, ``synchronous=FULL``), per host."""

    #: Expired rows are purged on every this-many spends.
    PURGE_EVERY = 1024

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._count = 0
        self._db = open_sqlite(
            path,
            what="spent store",
            timeout=timeout,
            # FULL: a spend is on disk before the gateway forwards; with NORMAL a power
            # loss could drop the last spends and let those tokens be redeemed again.
            synchronous="FULL",
            schema=[
                "CREATE TABLE IF NOT EXISTS spent ("
                " key BLOB PRIMARY KEY, expires_at REAL NOT NULL) WITHOUT ROWID"
            ],
        )

    def spend(self, key: bytes, *, expires_at: float, now: float) -> bool:
        """Insert, or take over an expired row; one statement, atomic."""
        _check(key, expires_at, now)
        with self._lock:
            try:
                cur = self._db.execute(
                    "INSERT INTO spent(key, expires_at) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at"
                    " WHERE spent.expires_at <= ?",
                    (bytes(key), expires_at, now),
                )
                fresh = cur.rowcount == 1
                self._count += 1
                if self._count % self.PURGE_EVERY == 0:
                    self._db.execute("DELETE FROM spent WHERE expires_at <= ?", (now,))
            except sqlite3.Error as exc:
                raise StoreError(f"spent store: SQLite failed ({type(exc).__name__})") from None
        return fresh

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class RedisSpentStore:
    """The spent-token store for several gateway replicas: Redis ``SET NX PXAT``."""

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "privproc:spent:",
        socket_timeout: float = 2.0,
    ) -> None:
        import redis

        self._prefix = prefix.encode()
        try:
            self._redis = redis.Redis.from_url(
                url,
                socket_timeout=socket_timeout,
                socket_connect_timeout=socket_timeout,
                retry_on_timeout=False,
            )
        except (ValueError, redis.RedisError) as exc:
            raise StoreError(f"spent store: bad Redis URL ({type(exc).__name__})") from None

    def spend(self, key: bytes, *, expires_at: float, now: float) -> bool:
        """``SET prefix+key 1 NX PXAT expires_at``: True when the key was not there."""
        import redis

        _check(key, expires_at, now)
        try:
            result = self._redis.set(
                self._prefix + bytes(key), b"1", nx=True, pxat=int(expires_at * 1000)
            )
        except redis.RedisError as exc:
            raise StoreError(f"spent store: Redis failed ({type(exc).__name__})") from None
        return bool(result)

    def close(self) -> None:
        """Close the connection pool."""
        self._redis.close()
