"""The one way privproc opens its embedded SQLite stores."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from privproc._sqlite import open_sqlite
from privproc.client.wallet import TokenWallet
from privproc.consent_service.sqlite import SqliteStore as ConsentSqliteStore
from privproc.errors import StoreError
from privproc.issuer.auth import DeviceRegistry
from privproc.issuer.quota import SqliteQuotaStore
from privproc.ledger_service.storage import _SqliteDatabase
from privproc.stores.spent import SqliteSpentStore
from privproc.witness.service import WitnessStore


def test_opens_in_wal_with_the_schema_and_pragmas(tmp_path: Path) -> None:
    db = open_sqlite(
        tmp_path / "x.db", what="x", schema=["CREATE TABLE t (a INTEGER)"], synchronous="FULL"
    )
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    assert db.isolation_level is None
    db.execute("INSERT INTO t VALUES (1)")
    db.close()


def test_failures_are_store_errors_naming_the_store(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"^x: cannot open SQLite \(OperationalError\)$"):
        open_sqlite(tmp_path, what="x", schema=[])
    with pytest.raises(StoreError, match=r"^x: "):
        open_sqlite(tmp_path / "y.db", what="x", schema=["NOT SQL"])


@pytest.mark.parametrize(
    ("open_store", "what"),
    [
        (DeviceRegistry, "device registry"),
        (SqliteQuotaStore, "quota store"),
        (SqliteSpentStore, "spent store"),
        (WitnessStore, "witness database"),
    ],
)
def test_every_store_opens_through_it(open_store: type, what: str, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=f"^{what}: cannot open"):
        open_store(tmp_path)  # a folder is not a database
    open_store(tmp_path / "ok.db").close()


def test_wallet_folder_that_is_a_file_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(StoreError, match=r"^token wallet: cannot open"):
        TokenWallet(tmp_path / "f")


def _connection(store: object) -> sqlite3.Connection:
    db = store._db  # type: ignore[attr-defined]
    assert isinstance(db, sqlite3.Connection)
    return db


@pytest.mark.parametrize(
    "open_store",
    [
        SqliteSpentStore,  # a lost spend reopens a double-spend
        SqliteQuotaStore,
        DeviceRegistry,
        WitnessStore,
        ConsentSqliteStore,
        _SqliteDatabase,  # the ledger's
    ],
)
def test_stores_that_protect_users_commit_with_synchronous_full(
    open_store: type, tmp_path: Path
) -> None:
    """WAL + FULL: a commit is on disk before the caller goes on (a power loss loses nothing)."""
    store = open_store(tmp_path / "s.db")
    db = _connection(store)
    assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert db.execute("PRAGMA synchronous").fetchone() == (2,)  # FULL
    store.close()
