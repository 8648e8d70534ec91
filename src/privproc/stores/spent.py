"""Spent-token stores: remember each redeemed token until it could no longer verify.

:class:`~privproc.tokens.spent.SpentStore` is the interface the redeemer uses (a core
protocol); the two real implementations live here, with their I/O:

* :class:`SqliteSpentStore`, the embedded default: one file, safe across threads
  and processes on one host (SQLite serializes writers; one atomic upsert per spend).
  Concurrent spends share one durable commit (group commit, issue 18): each call
  returns only after the transaction holding its row has committed, on disk.
* :class:`RedisSpentStore`, for several gateway replicas: ``SET key 1 NX PXAT expiry``,
  one round trip, atomic on the server.

Both fail closed: any failure of the backing store raises
:class:`~privproc.errors.StoreError` and the redeemer refuses the token. Keys are
opaque fixed-size byte strings (the redeemer passes a hash of key id and nonce),
so a store never holds a token, a challenge or anything that names an account.
Calls block; async services call them in a worker thread.
"""

from __future__ import annotations

import contextlib
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


class _Spend:
    """One waiting spend of a group commit: its row, then its outcome."""

    __slots__ = ("done", "error", "expires_at", "fresh", "key", "lead", "now")

    def __init__(self, key: bytes, expires_at: float, now: float) -> None:
        self.key, self.expires_at, self.now = bytes(key), expires_at, now
        self.fresh = False
        self.error: StoreError | None = None
        self.lead = False
        self.done = threading.Event()


class SqliteSpentStore:
    """The embedded spent-token store: one SQLite file (WAL, ``synchronous=FULL``), per host.

    Group commit: a spend joins the queue; if no commit is running it leads one,
    taking every queued spend into one transaction (one upsert each, one COMMIT, so
    one WAL fsync for the group), then hands the lead to the first spend queued
    meanwhile. Every caller returns only after the COMMIT holding its row returned,
    so an acknowledged spend is on disk (``synchronous=FULL``); a failed commit fails
    every spend of its group (fail closed: none is acknowledged).
    """

    #: Expired rows are purged on every this-many spends.
    PURGE_EVERY = 1024

    def __init__(self, path: str | Path, *, timeout: float = 5.0) -> None:
        self._lock = threading.Lock()  # the connection
        self._queue_lock = threading.Lock()  # the queue and the lead
        self._queue: list[_Spend] = []
        self._leading = False
        self._count = 0
        #: Number of durable commits so far (a group commit makes fewer than spends).
        self.commits = 0
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
        """Insert, or take over an expired row; atomic, durable when it returns."""
        _check(key, expires_at, now)
        mine = _Spend(key, expires_at, now)
        with self._queue_lock:
            self._queue.append(mine)
            mine.lead = not self._leading
            self._leading = True
        if not mine.lead:
            mine.done.wait()  # committed by a leader, or handed the lead
        if mine.lead:
            with self._queue_lock:
                group, self._queue = self._queue, []
            try:
                self._commit(group)
            finally:
                with self._queue_lock:
                    if self._queue:
                        self._queue[0].lead = True
                        self._queue[0].done.set()
                    else:
                        self._leading = False
        if mine.error is not None:
            raise mine.error
        return mine.fresh

    def _commit(self, group: list[_Spend]) -> None:
        """One transaction for ``group``; sets each spend's outcome and wakes it."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    for item in group:
                        cur = self._db.execute(
                            "INSERT INTO spent(key, expires_at) VALUES (?, ?)"
                            " ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at"
                            " WHERE spent.expires_at <= ?",
                            (item.key, item.expires_at, item.now),
                        )
                        item.fresh = cur.rowcount == 1
                    before = self._count
                    self._count += len(group)
                    if self._count // self.PURGE_EVERY != before // self.PURGE_EVERY:
                        self._db.execute(
                            "DELETE FROM spent WHERE expires_at <= ?", (group[-1].now,)
                        )
                    self._db.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("ROLLBACK")
                    raise
                self.commits += 1
            except sqlite3.Error as exc:
                error = StoreError(f"spent store: SQLite failed ({type(exc).__name__})")
                for item in group:
                    item.fresh, item.error = False, error
            except BaseException:
                for item in group:
                    item.fresh = False
                    item.error = StoreError("spent store: commit interrupted")
                raise
            finally:
                for item in group:
                    item.lead = False
                    item.done.set()

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
