"""The PostgreSQL consent store (psycopg 3), for more accounts than one file holds.

Same tables and rules as :class:`~privproc.consent_service.sqlite.SqliteStore`: events are
append-only (a trigger refuses UPDATE and DELETE on them), and a change locks the
account's row (``SELECT ... FOR UPDATE``) before it reads the head event and
inserts the next, so concurrent changes of one account serialize across every
service replica sharing the database.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime

import psycopg
from psycopg import errors as pg_errors

from privproc.consent.events import ConsentEvent, ConsentState, ConsentStatus, new_event
from privproc.consent.store import (
    LOOKUP_CHUNK,
    event_from_row,
    event_row,
    first_event,
    statuses_by_chunk,
)
from privproc.errors import ConflictError, NotFoundError, StoreError

__all__ = ["PostgresStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS consent_accounts (
    account     TEXT PRIMARY KEY,
    region      TEXT NOT NULL,
    secret_hash BYTEA NOT NULL UNIQUE,
    state       TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    updated     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS consent_events (
    account TEXT NOT NULL REFERENCES consent_accounts(account),
    seq     BIGINT NOT NULL,
    time    TEXT NOT NULL,
    state   TEXT NOT NULL,
    source  TEXT NOT NULL,
    region  TEXT NOT NULL,
    prev    TEXT NOT NULL,
    hash    TEXT NOT NULL,
    PRIMARY KEY (account, seq)
);
CREATE OR REPLACE FUNCTION consent_events_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent events are append-only';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS consent_events_append_only ON consent_events;
CREATE TRIGGER consent_events_append_only BEFORE UPDATE OR DELETE ON consent_events
    FOR EACH ROW EXECUTE FUNCTION consent_events_append_only();
"""

_INSERT_ACCOUNT = (
    "INSERT INTO consent_accounts (account, region, secret_hash, state, seq, updated)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
)
_INSERT_EVENT = (
    "INSERT INTO consent_events (account, seq, time, state, source, region, prev, hash)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
)
_LOCK_ACCOUNT = "SELECT seq FROM consent_accounts WHERE account = %s FOR UPDATE"
_HEAD = (
    "SELECT account, seq, time, state, source, region, prev, hash FROM consent_events"
    " WHERE account = %s AND seq = %s"
)
_UPDATE_ACCOUNT = (
    "UPDATE consent_accounts SET state = %s, seq = %s, updated = %s WHERE account = %s"
)
_STATUSES = (
    "SELECT account, region, state, seq, updated FROM consent_accounts WHERE account = ANY(%s)"
)
_HISTORY = (
    "SELECT account, seq, time, state, source, region, prev, hash FROM consent_events"
    " WHERE account = %s ORDER BY seq"
)
_ACCOUNTS = (
    'SELECT account FROM consent_accounts WHERE account COLLATE "C" > %s'
    ' ORDER BY account COLLATE "C" LIMIT %s'
)
_ACCOUNT_FOR = "SELECT account FROM consent_accounts WHERE secret_hash = %s"


class PostgresStore:
    """A consent store in PostgreSQL; one connection behind a lock per process."""

    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        try:
            self._db = psycopg.connect(url, connect_timeout=10, autocommit=True)
            with self._db.transaction():
                # One schema setup at a time, even when replicas start together.
                self._db.execute("SELECT pg_advisory_xact_lock(7316154)")
                self._db.execute(_SCHEMA)
        except psycopg.Error as exc:
            raise StoreError(
                f"consent store: cannot open PostgreSQL ({type(exc).__name__})"
            ) from None

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
        with self._lock:
            try:
                with self._db.transaction():
                    yield self._db
            except pg_errors.UniqueViolation:
                raise ConflictError("account already exists") from None
            except psycopg.Error as exc:
                raise StoreError(
                    f"consent store: PostgreSQL failed ({type(exc).__name__})"
                ) from None

    def register(
        self, account: str, region: str, secret_hash: bytes, now: datetime
    ) -> ConsentEvent:
        """Create an account (state unset); ConflictError if it or its secret exists."""
        event = first_event(account, region, now)
        with self._tx() as db:
            db.execute(
                _INSERT_ACCOUNT,
                (account, region, secret_hash, event.state.value, 0, event_row(event)[2]),
            )
            db.execute(_INSERT_EVENT, event_row(event))
        return event

    def change(self, account: str, state: ConsentState, source: str, now: datetime) -> ConsentEvent:
        """Append the account's next event, atomically with its status."""
        with self._tx() as db:
            locked = db.execute(_LOCK_ACCOUNT, (account,)).fetchone()
            if locked is None:
                raise NotFoundError("no such account")
            row = db.execute(_HEAD, (account, locked[0])).fetchone()
            if row is None:
                raise StoreError("consent store: account without events")
            head = event_from_row(row)
            event = new_event(
                head, account=account, state=state, source=source, region=head.region, now=now
            )
            values = event_row(event)
            db.execute(_INSERT_EVENT, values)
            db.execute(_UPDATE_ACCOUNT, (event.state.value, event.seq, values[2], account))
        return event

    def status(self, account: str) -> ConsentStatus | None:
        """The account's consent now, or None."""
        return self.statuses([account]).get(account)

    def statuses(self, accounts: Sequence[str]) -> dict[str, ConsentStatus]:
        """The consent now of those of ``accounts`` the store knows."""
        with self._tx() as db:
            return statuses_by_chunk(
                accounts, lambda chunk: db.execute(_STATUSES, (chunk,)).fetchall()
            )

    def history(self, account: str) -> list[ConsentEvent]:
        """Every event of the account, oldest first."""
        with self._tx() as db:
            rows = db.execute(_HISTORY, (account,)).fetchall()
        return [event_from_row(row) for row in rows]

    def account_for(self, secret_hash: bytes) -> str | None:
        """The account whose credential hashes to ``secret_hash``."""
        with self._tx() as db:
            row = db.execute(_ACCOUNT_FOR, (secret_hash,)).fetchone()
        return None if row is None else str(row[0])

    def accounts(self, after: str = "", limit: int = LOOKUP_CHUNK) -> list[str]:
        """Up to ``limit`` account ids greater than ``after``, in order."""
        with self._tx() as db:
            rows = db.execute(_ACCOUNTS, (after, limit)).fetchall()
        return [str(row[0]) for row in rows]

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()
