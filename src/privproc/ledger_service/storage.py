"""Durable storage for the ledger: entries, every complete-subtree hash, checkpoints.

Two backends share one implementation: SQLite (the default, one file under the
ledger's home) and PostgreSQL (:mod:`privproc.ledger_service.postgres`, for scale).

Durability: the service acknowledges an append only after the transaction holding
the entry, its hashes and the new signed checkpoint has committed. SQLite runs in
WAL mode with ``synchronous=FULL`` and PostgreSQL with its default synchronous
commit, so a commit is on disk when it returns, and a crash (even ``kill -9``)
loses only unacknowledged appends.

Hashes are kept for every complete subtree (``(level, index)``, RFC 9162 §2.1),
so proofs read O(log n) rows and C2SP tiles are range reads of levels
``0, 8, 16, ...``. All access goes through one connection under a lock (the
sequencer writes from a worker thread; request handlers read).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, TypeVar

from privproc.errors import MisuseError, StoreError
from privproc.ledger.merkle import (
    consistency_proof,
    empty_root,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_hash,
)

__all__ = ["LedgerStore", "SqlDatabase", "SqlLedgerStore", "SqliteLedgerStore"]

_T = TypeVar("_T")

_SQLITE_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hashes (level INTEGER NOT NULL, idx INTEGER NOT NULL,"
    " hash BLOB NOT NULL, PRIMARY KEY (level, idx)) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS witnessed (size INTEGER PRIMARY KEY, note BLOB NOT NULL)",
)


class SqlDatabase(Protocol):
    """The few operations the store needs from a SQL connection (``?`` placeholders)."""

    #: The statement that opens a write transaction.
    begin: str
    #: The driver's base exception(s), translated to StoreError.
    errors: tuple[type[Exception], ...]

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement; return its rows (empty for statements without rows)."""
        ...

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per row."""
        ...

    def close(self) -> None:
        """Close the connection."""
        ...


class LedgerStore(Protocol):
    """What the ledger service needs from its storage (both backends provide it)."""

    @property
    def size(self) -> int: ...

    def append(self, entries: Sequence[bytes], make_note: Callable[[int, bytes], bytes]) -> int: ...

    def latest_checkpoint(self) -> tuple[int, bytes] | None: ...

    def update_checkpoint(self, size: int, note: bytes) -> None: ...

    def record_witnessed(self, size: int, note: bytes) -> None: ...

    def first_witnessed(self, index: int) -> bytes | None: ...

    def hashes(self, level: int, start: int, end: int) -> list[bytes]: ...

    def entries(self, start: int, end: int) -> list[bytes]: ...

    def inclusion_proof(self, index: int, size: int) -> list[bytes]: ...

    def consistency_proof(self, old: int, new: int) -> list[bytes]: ...

    def close(self) -> None: ...


class _SqliteDatabase:
    begin = "BEGIN IMMEDIATE"
    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        for statement in _SQLITE_SCHEMA:
            self._db.execute(statement)

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._db.execute(sql, tuple(params)).fetchall()

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._db.executemany(sql, rows)

    def close(self) -> None:
        self._db.close()


class _Source:
    """A HashSource over the database plus hashes not yet committed."""

    __slots__ = ("_db", "_new")

    def __init__(self, db: SqlDatabase, new: dict[tuple[int, int], bytes]) -> None:
        self._db, self._new = db, new

    def node(self, level: int, index: int) -> bytes:
        h = self._new.get((level, index))
        if h is not None:
            return h
        rows = self._db.query("SELECT hash FROM hashes WHERE level = ? AND idx = ?", (level, index))
        if not rows:
            raise MisuseError(f"no stored hash at level {level} index {index}")
        return bytes(rows[0][0])


class SqlLedgerStore:
    """The ledger's durable state in a SQL database (see :class:`SqlDatabase`)."""

    def __init__(
        self, connect: Callable[[], SqlDatabase], what: str, errors: tuple[type[Exception], ...]
    ) -> None:
        self._lock = threading.Lock()
        self._what = what
        try:
            self._db = connect()
        except errors as exc:
            raise StoreError(f"cannot open the {what} database: {type(exc).__name__}") from None
        self._size = self._run(self._read_size)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _run(self, fn: Callable[[SqlDatabase], _T]) -> _T:
        with self._lock:
            try:
                return fn(self._db)
            except self._db.errors as exc:
                raise StoreError(f"{self._what} database: {type(exc).__name__}") from None

    @staticmethod
    def _read_size(db: SqlDatabase) -> int:
        return int(db.query("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")[0][0])

    @property
    def size(self) -> int:
        """Number of sequenced entries."""
        return self._size

    def append(self, entries: Sequence[bytes], make_note: Callable[[int, bytes], bytes]) -> int:
        """Sequence ``entries`` and store the checkpoint ``make_note(size, root)`` in ONE
        durable transaction; return the index of the first entry."""

        def tx(db: SqlDatabase) -> int:
            start = self._size
            new: dict[tuple[int, int], bytes] = {}
            src = _Source(db, new)
            for k, entry in enumerate(entries):
                i, level = start + k, 0
                h = leaf_hash(entry)
                new[(0, i)] = h
                while i & 1:
                    h = node_hash(src.node(level, i - 1), h)
                    level += 1
                    i >>= 1
                    new[(level, i)] = h
            size = start + len(entries)
            root = range_hash(src, 0, size) if size else empty_root()
            note = make_note(size, root)
            db.query(db.begin)
            try:
                db.execute_many(
                    "INSERT INTO entries (idx, data) VALUES (?, ?)",
                    [(start + k, e) for k, e in enumerate(entries)],
                )
                db.execute_many(
                    "INSERT INTO hashes (level, idx, hash) VALUES (?, ?, ?)",
                    [(lv, ix, h) for (lv, ix), h in new.items()],
                )
                db.query(
                    "INSERT INTO checkpoints (size, note) VALUES (?, ?)"
                    " ON CONFLICT (size) DO UPDATE SET note = excluded.note",
                    (size, note),
                )
                db.query("COMMIT")
            except BaseException:
                db.query("ROLLBACK")
                raise
            self._size = size
            return start

        return self._run(tx)

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        """The newest stored checkpoint note and its size."""

        def q(db: SqlDatabase) -> tuple[int, bytes] | None:
            rows = db.query("SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1")
            return None if not rows else (int(rows[0][0]), bytes(rows[0][1]))

        return self._run(q)

    def checkpoint(self, size: int) -> bytes | None:
        """The stored checkpoint note for ``size``, if any."""

        def q(db: SqlDatabase) -> bytes | None:
            rows = db.query("SELECT note FROM checkpoints WHERE size = ?", (size,))
            return None if not rows else bytes(rows[0][0])

        return self._run(q)

    def update_checkpoint(self, size: int, note: bytes) -> None:
        """Replace the note of size ``size`` (to add witness cosignatures)."""
        self._run(
            lambda db: db.query("UPDATE checkpoints SET note = ? WHERE size = ?", (note, size))
        )

    def record_witnessed(self, size: int, note: bytes) -> None:
        """Keep the first note of size ``size`` that reached the witness quorum (never
        replaced: its cosignature times say when the log first held those entries)."""
        self._run(
            lambda db: db.query(
                "INSERT INTO witnessed (size, note) VALUES (?, ?) ON CONFLICT (size) DO NOTHING",
                (size, note),
            )
        )

    def first_witnessed(self, index: int) -> bytes | None:
        """The first witnessed note of the smallest size holding entry ``index``."""

        def q(db: SqlDatabase) -> bytes | None:
            rows = db.query(
                "SELECT note FROM witnessed WHERE size > ? ORDER BY size LIMIT 1", (index,)
            )
            return None if not rows else bytes(rows[0][0])

        return self._run(q)

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Stored hashes ``[start, end)`` of one Merkle level (stops at the first gap)."""

        def q(db: SqlDatabase) -> list[bytes]:
            rows = db.query(
                "SELECT idx, hash FROM hashes WHERE level = ? AND idx >= ? AND idx < ?"
                " ORDER BY idx",
                (level, start, end),
            )
            out = []
            for want, (idx, h) in enumerate(rows, start):
                if idx != want:
                    break
                out.append(bytes(h))
            return out

        return self._run(q)

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)`` that exist."""

        def q(db: SqlDatabase) -> list[bytes]:
            rows = db.query(
                "SELECT data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
            )
            return [bytes(r[0]) for r in rows]

        return self._run(q)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 proof from stored hashes (O(log n) reads)."""
        self._check(size)
        return self._run(lambda db: inclusion_proof(_Source(db, {}), index, size))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 proof from stored hashes (O(log n) reads)."""
        self._check(new)
        return self._run(lambda db: consistency_proof(_Source(db, {}), old, new))

    def root(self, size: int) -> bytes:
        """``MTH(D[0:size])`` from stored hashes."""
        self._check(size)
        if size == 0:
            return empty_root()
        return self._run(lambda db: range_hash(_Source(db, {}), 0, size))

    def _check(self, size: int) -> None:
        if not 0 <= size <= self._size:
            raise MisuseError(f"size {size} beyond the log ({self._size})")


class SqliteLedgerStore(SqlLedgerStore):
    """The ledger's state in one SQLite file (WAL, ``synchronous=FULL``)."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(lambda: _SqliteDatabase(path), "SQLite", (sqlite3.Error, OSError))
