"""SQLite storage for the ledger: entries, every complete-subtree hash, checkpoints.

Durability: WAL journal with ``synchronous=FULL``, so a transaction is on disk
when ``commit`` returns; the service acknowledges an append only after the
transaction holding the entry, its hashes and the new signed checkpoint has
committed. A crash (even ``kill -9``) loses only unacknowledged appends.

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
from typing import TypeVar

from privproc.errors import MisuseError, StoreError
from privproc.ledger.merkle import (
    consistency_proof,
    empty_root,
    inclusion_proof,
    leaf_hash,
    node_hash,
    range_hash,
)

__all__ = ["SqliteLedgerStore"]

_T = TypeVar("_T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (idx INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS hashes (
    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL,
    PRIMARY KEY (level, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS checkpoints (size INTEGER PRIMARY KEY, note BLOB NOT NULL);
"""


class _Source:
    """A HashSource over the connection plus hashes not yet committed."""

    __slots__ = ("_cur", "_new")

    def __init__(self, cur: sqlite3.Cursor, new: dict[tuple[int, int], bytes]) -> None:
        self._cur, self._new = cur, new

    def node(self, level: int, index: int) -> bytes:
        h = self._new.get((level, index))
        if h is not None:
            return h
        row = self._cur.execute(
            "SELECT hash FROM hashes WHERE level = ? AND idx = ?", (level, index)
        ).fetchone()
        if row is None:
            raise MisuseError(f"no stored hash at level {level} index {index}")
        return bytes(row[0])


class SqliteLedgerStore:
    """The ledger's durable state in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open ledger database: {type(exc).__name__}") from None
        self._size = self._run(self._read_size)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    def _run(self, fn: Callable[[sqlite3.Cursor], _T]) -> _T:
        with self._lock:
            try:
                return fn(self._db.cursor())
            except sqlite3.Error as exc:
                raise StoreError(f"ledger database: {type(exc).__name__}") from None

    @staticmethod
    def _read_size(cur: sqlite3.Cursor) -> int:
        row = cur.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries").fetchone()
        return int(row[0])

    @property
    def size(self) -> int:
        """Number of sequenced entries."""
        return self._size

    def append(self, entries: Sequence[bytes], make_note: Callable[[int, bytes], bytes]) -> int:
        """Sequence ``entries`` and store the checkpoint ``make_note(size, root)`` in ONE
        durable transaction; return the index of the first entry."""

        def tx(cur: sqlite3.Cursor) -> int:
            start = self._size
            new: dict[tuple[int, int], bytes] = {}
            src = _Source(cur, new)
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
            cur.execute("BEGIN IMMEDIATE")
            try:
                cur.executemany(
                    "INSERT INTO entries (idx, data) VALUES (?, ?)",
                    [(start + k, e) for k, e in enumerate(entries)],
                )
                cur.executemany(
                    "INSERT INTO hashes (level, idx, hash) VALUES (?, ?, ?)",
                    [(lv, ix, h) for (lv, ix), h in new.items()],
                )
                cur.execute(
                    "INSERT OR REPLACE INTO checkpoints (size, note) VALUES (?, ?)", (size, note)
                )
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            self._size = size
            return start

        return self._run(tx)

    def latest_checkpoint(self) -> tuple[int, bytes] | None:
        """The newest stored checkpoint note and its size."""

        def q(cur: sqlite3.Cursor) -> tuple[int, bytes] | None:
            row = cur.execute(
                "SELECT size, note FROM checkpoints ORDER BY size DESC LIMIT 1"
            ).fetchone()
            return None if row is None else (int(row[0]), bytes(row[1]))

        return self._run(q)

    def checkpoint(self, size: int) -> bytes | None:
        """The stored checkpoint note for ``size``, if any."""

        def q(cur: sqlite3.Cursor) -> bytes | None:
            row = cur.execute("SELECT note FROM checkpoints WHERE size = ?", (size,)).fetchone()
            return None if row is None else bytes(row[0])

        return self._run(q)

    def update_checkpoint(self, size: int, note: bytes) -> None:
        """Replace the note of size ``size`` (to add witness cosignatures)."""

        def q(cur: sqlite3.Cursor) -> None:
            cur.execute("UPDATE checkpoints SET note = ? WHERE size = ?", (note, size))

        self._run(q)

    def hashes(self, level: int, start: int, end: int) -> list[bytes]:
        """Stored hashes ``[start, end)`` of one Merkle level (stops at the first gap)."""

        def q(cur: sqlite3.Cursor) -> list[bytes]:
            rows = cur.execute(
                "SELECT idx, hash FROM hashes"
                " WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx",
                (level, start, end),
            ).fetchall()
            out = []
            for want, (idx, h) in enumerate(rows, start):
                if idx != want:
                    break
                out.append(bytes(h))
            return out

        return self._run(q)

    def entries(self, start: int, end: int) -> list[bytes]:
        """Entries ``[start, end)`` that exist."""

        def q(cur: sqlite3.Cursor) -> list[bytes]:
            rows = cur.execute(
                "SELECT data FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx", (start, end)
            ).fetchall()
            return [bytes(r[0]) for r in rows]

        return self._run(q)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 §2.1.3.1 proof from stored hashes (O(log n) reads)."""
        self._check(size)
        return self._run(lambda cur: inclusion_proof(_Source(cur, {}), index, size))

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """RFC 9162 §2.1.4.1 proof from stored hashes (O(log n) reads)."""
        self._check(new)
        return self._run(lambda cur: consistency_proof(_Source(cur, {}), old, new))

    def root(self, size: int) -> bytes:
        """``MTH(D[0:size])`` from stored hashes."""
        self._check(size)
        if size == 0:
            return empty_root()
        return self._run(lambda cur: range_hash(_Source(cur, {}), 0, size))

    def _check(self, size: int) -> None:
        if not 0 <= size <= self._size:
            raise MisuseError(f"size {size} beyond the log ({self._size})")
