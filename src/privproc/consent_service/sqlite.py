"""The embedded consent store: one SQLite file (the contract is :mod:`privproc.consent.store`)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

from privproc.consent.events import (
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    format_time,
    new_event,
)
from privproc.consent.store import (
    _SQL_HEAD,
    _SQL_HISTORY,
    _SQL_INSERT_EVENT,
    _SQL_STATUSES,
    LOOKUP_CHUNK,
    event_from_row,
    event_row,
    first_event,
    statuses_by_chunk,
)
from privproc.errors import ConflictError, NotFoundError, StoreError

__all__ = ["SqliteStore"]


_SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    account     TEXT PRIMARY KEY,
    region      TEXT NOT NULL,
    secret_hash BLOB NOT NULL UNIQUE,
    state       TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    updated     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    account TEXT NOT NULL REFERENCES accounts(account),
    seq     INTEGER NOT NULL,
    time    TEXT NOT NULL,
    state   TEXT NOT NULL,
    source  TEXT NOT NULL,
    region  TEXT NOT NULL,
    prev    TEXT NOT NULL,
    hash    TEXT NOT NULL,
    PRIMARY KEY (account, seq)
);
CREATE TRIGGER IF NOT EXISTS events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END;
CREATE TRIGGER IF NOT EXISTS events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'consent events are append-only'); END;
"""


class SqliteStore:
    """The embedded store: one SQLite file (WAL, ``synchronous=FULL``), one connection, a lock."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        try:
            if str(path) != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                str(path), isolation_level=None, check_same_thread=False, timeout=10.0
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SQLITE_SCHEMA)
        except sqlite3.Error as exc:
            raise StoreError(
                f"consent store: cannot open SQLite database ({type(exc).__name__})"
            ) from None

    @contextmanager
    def _tx(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield self._db
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.IntegrityError:
                raise ConflictError("account already exists") from None
            except sqlite3.Error as exc:
                raise StoreError(f"consent store: SQLite failed ({type(exc).__name__})") from None

    def register(
        self, account: str, region: str, secret_hash: bytes, now: datetime
    ) -> ConsentEvent:
        """Create an account (state unset); ConflictError if it or its secret exists."""
        event = first_event(account, region, now)
        with self._tx(write=True) as db:
            db.execute(
                "INSERT INTO accounts (account, region, secret_hash, state, seq, updated)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (account, region, secret_hash, event.state.value, 0, format_time(event.time)),
            )
            db.execute(_SQL_INSERT_EVENT, event_row(event))
        return event

    def change(self, account: str, state: ConsentState, source: str, now: datetime) -> ConsentEvent:
        """Append the account's next event, atomically with its status."""
        with self._tx(write=True) as db:
            row = db.execute(_SQL_HEAD, (account, account)).fetchone()
            if row is None:
                raise NotFoundError("no such account")
            head = event_from_row(row)
            event = new_event(
                head, account=account, state=state, source=source, region=head.region, now=now
            )
            db.execute(_SQL_INSERT_EVENT, event_row(event))
            db.execute(
                "UPDATE accounts SET state = ?, seq = ?, updated = ? WHERE account = ?",
                (event.state.value, event.seq, format_time(event.time), account),
            )
        return event

    def status(self, account: str) -> ConsentStatus | None:
        """The account's consent now, or None."""
        return self.statuses([account]).get(account)

    def statuses(self, accounts: Sequence[str]) -> dict[str, ConsentStatus]:
        """The consent now of those of ``accounts`` the store knows."""
        with self._tx(write=False) as db:
            return statuses_by_chunk(
                accounts, lambda chunk: db.execute(_SQL_STATUSES, (json.dumps(chunk),)).fetchall()
            )

    def history(self, account: str) -> list[ConsentEvent]:
        """Every event of the account, oldest first."""
        with self._tx(write=False) as db:
            rows = db.execute(_SQL_HISTORY, (account,)).fetchall()
        return [event_from_row(row) for row in rows]

    def account_for(self, secret_hash: bytes) -> str | None:
        """The account whose credential hashes to ``secret_hash``."""
        with self._tx(write=False) as db:
            row = db.execute(
                "SELECT account FROM accounts WHERE secret_hash = ?", (secret_hash,)
            ).fetchone()
        return None if row is None else str(row[0])

    def accounts(self, after: str = "", limit: int = LOOKUP_CHUNK) -> list[str]:
        """Up to ``limit`` account ids greater than ``after``, in order."""
        with self._tx(write=False) as db:
            rows = db.execute(
                "SELECT account FROM accounts WHERE account > ? ORDER BY account LIMIT ?",
                (after, limit),
            ).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()
