"""PostgreSQL storage for the ledger (the same tables and algorithm as SQLite).

``privproc ledger serve --database postgresql://...`` keeps entries, hashes and
checkpoints in PostgreSQL instead of the SQLite file. Commits use PostgreSQL's
default ``synchronous_commit=on``: a commit has reached the WAL on disk when it
returns, which is what the service's acknowledgement relies on. One ledger process
writes a database: a second one would fail its inserts (primary keys) and refuse,
never interleave.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from privproc.ledger_service.storage import SqlLedgerStore

__all__ = ["PostgresLedgerStore"]

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entries (idx BIGINT PRIMARY KEY, data BYTEA NOT NULL)",
    "CREATE TABLE IF NOT EXISTS hashes (level SMALLINT NOT NULL, idx BIGINT NOT NULL,"
    " hash BYTEA NOT NULL, PRIMARY KEY (level, idx))",
    "CREATE TABLE IF NOT EXISTS checkpoints (size BIGINT PRIMARY KEY, note BYTEA NOT NULL)",
    "CREATE TABLE IF NOT EXISTS witnessed (size BIGINT PRIMARY KEY, note BYTEA NOT NULL)",
)


class _PostgresDatabase:
    begin = "BEGIN"
    errors: tuple[type[Exception], ...] = (psycopg.Error,)

    def __init__(self, url: str) -> None:
        self._db = psycopg.connect(url, autocommit=True, connect_timeout=10)
        for statement in _SCHEMA:
            self._db.execute(statement)

    @staticmethod
    def _sql(sql: str) -> str:
        return sql.replace("?", "%s")

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self._db.execute(self._sql(sql).encode(), tuple(params))
        return cur.fetchall() if cur.description is not None else []

    def execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self._db.cursor() as cur:
            cur.executemany(self._sql(sql).encode(), rows)

    def close(self) -> None:
        self._db.close()


class PostgresLedgerStore(SqlLedgerStore):
    """The ledger's state in a PostgreSQL database given by URL."""

    def __init__(self, url: str) -> None:
        super().__init__(lambda: _PostgresDatabase(url), "PostgreSQL", (psycopg.Error,))
