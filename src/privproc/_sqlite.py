"""Opening the SQLite files privproc keeps state in: one rule for every embedded store.

A connection is in autocommit mode (``isolation_level=None``: transactions are
explicit ``BEGIN``/``COMMIT``), may be used from any thread (every store guards
it with its own lock), and journals in WAL mode so readers never block the writer
(https://www.sqlite.org/wal.html). Failures become :class:`~privproc.errors.StoreError`
naming the store: callers fail closed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from privproc.errors import StoreError

__all__ = ["open_sqlite"]


def open_sqlite(
    path: str | Path,
    *,
    what: str,
    schema: Sequence[str],
    timeout: float = 5.0,
    synchronous: str | None = None,
) -> sqlite3.Connection:
    """Open ``path`` as above, set ``PRAGMA synchronous`` if given, run ``schema``."""
    db: sqlite3.Connection | None = None
    try:
        db = sqlite3.connect(
            str(path), timeout=timeout, isolation_level=None, check_same_thread=False
        )
        db.execute("PRAGMA journal_mode=WAL")
        if synchronous is not None:
            db.execute(f"PRAGMA synchronous={synchronous}")
        for statement in schema:
            db.execute(statement)
    except sqlite3.Error as exc:
        if db is not None:
            db.close()
        raise StoreError(f"{what}: cannot open SQLite ({type(exc).__name__})") from None
    return db
