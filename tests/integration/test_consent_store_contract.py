"""One contract, every consent store: SQLite (embedded) and PostgreSQL (started for real)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from privproc.consent.audit import audit_store
from privproc.consent.events import ConsentState, verify_chain
from privproc.consent.store import LOOKUP_CHUNK, ConsentStore
from privproc.consent_service.postgres import PostgresStore
from privproc.consent_service.sqlite import SqliteStore
from privproc.consent_service.stores import open_store
from privproc.errors import ConflictError, NotFoundError, StoreError, VerificationError
from tests._postgres import PostgresServer, running_postgres

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
G, R, U = ConsentState.GRANTED, ConsentState.REFUSED, ConsentState.UNSET


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


# A backend: (open a store on the shared target, run raw SQL on the events table).
Backend = tuple[Callable[[], ConsentStore], Callable[[str], None]]


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    opened: list[ConsentStore] = []
    if request.param == "sqlite":
        path = tmp_path / "consent.db"

        def make() -> ConsentStore:
            opened.append(open_store(path))
            return opened[-1]

        def raw(sql: str) -> None:
            with sqlite3.connect(path) as db:
                db.executescript(
                    sql.replace("{events}", "events")
                    .replace("{accounts}", "accounts")
                    .replace("{drop_trigger}", "DROP TRIGGER events_no_update")
                )

    else:
        url = request.getfixturevalue("postgres").new_database()

        def make() -> ConsentStore:
            opened.append(open_store(url))
            return opened[-1]

        def raw(sql: str) -> None:
            with psycopg.connect(url, autocommit=True) as db:
                db.execute(
                    sql.replace("{events}", "consent_events")
                    .replace("{accounts}", "consent_accounts")
                    .replace(
                        "{drop_trigger}",
                        "DROP TRIGGER consent_events_append_only ON consent_events",
                    )
                )

    yield make, raw
    for store in opened:
        store.close()


def secret(n: int) -> bytes:
    return n.to_bytes(32, "big")


def test_open_store_picks_the_implementation(tmp_path: Path, postgres: PostgresServer) -> None:
    sqlite_store = open_store(tmp_path / "x.db")
    pg_store = open_store(postgres.new_database())
    assert isinstance(sqlite_store, SqliteStore)
    assert isinstance(pg_store, PostgresStore)
    sqlite_store.close()
    pg_store.close()


def test_register_then_unset(backend: Backend) -> None:
    store = backend[0]()
    event = store.register("u1", "DE", secret(1), NOW)
    assert (event.seq, event.state, event.source, event.region) == (0, U, "register", "DE")
    status = store.status("u1")
    assert status is not None
    assert (status.state, status.region, status.seq, status.updated) == (U, "DE", 0, NOW)
    assert store.history("u1") == [event]
    assert store.status("nobody") is None
    assert store.history("nobody") == []


def test_duplicates_conflict(backend: Backend) -> None:
    store = backend[0]()
    store.register("u1", "DE", secret(1), NOW)
    with pytest.raises(ConflictError):
        store.register("u1", "US", secret(2), NOW)
    with pytest.raises(ConflictError):
        store.register("u2", "US", secret(1), NOW)
    assert store.status("u2") is None


def test_change_unknown_account(backend: Backend) -> None:
    with pytest.raises(NotFoundError):
        backend[0]().change("ghost", R, "objection", NOW)


def test_grant_refuse_grant_chain(backend: Backend) -> None:
    store = backend[0]()
    store.register("u1", "US", secret(1), NOW)
    for i, state in enumerate([G, R, G], start=1):
        event = store.change("u1", state, "user", NOW + timedelta(minutes=i))
        assert event.seq == i
        status = store.status("u1")
        assert status is not None
        assert (status.state, status.seq) == (state, i)
    events = store.history("u1")
    assert [e.state for e in events] == [U, G, R, G]
    assert verify_chain(events, account="u1") == events[-1]


def test_clock_going_back_keeps_times_ordered(backend: Backend) -> None:
    store = backend[0]()
    store.register("u1", "US", secret(1), NOW)
    event = store.change("u1", R, "objection", NOW - timedelta(days=1))
    assert event.time == NOW
    verify_chain(store.history("u1"), account="u1")


def test_statuses_in_bulk(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    chunk = 20  # queries go in chunks: make several
    monkeypatch.setattr("privproc.consent.store.LOOKUP_CHUNK", chunk)
    monkeypatch.setattr("privproc.consent_service.postgres.LOOKUP_CHUNK", chunk)
    assert chunk < LOOKUP_CHUNK
    store = backend[0]()
    n = 2 * chunk + 7
    for i in range(n):
        store.register(f"u{i}", "US" if i % 2 else "FR", secret(i), NOW)
    store.change("u3", R, "objection", NOW)
    wanted = [f"u{i}" for i in range(n)] + ["ghost", "u3"]
    statuses = store.statuses(wanted)
    assert set(statuses) == {f"u{i}" for i in range(n)}
    assert statuses["u3"].state is R
    assert statuses["u4"].region == "FR"
    assert store.statuses([]) == {}


def test_account_for_secret(backend: Backend) -> None:
    store = backend[0]()
    store.register("u1", "US", secret(1), NOW)
    assert store.account_for(secret(1)) == "u1"
    assert store.account_for(secret(2)) is None


def test_events_are_append_only_in_the_database(backend: Backend) -> None:
    make, raw = backend
    store = make()
    store.register("u1", "US", secret(1), NOW)
    store.change("u1", G, "user", NOW)
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error)):
        raw("UPDATE {events} SET state = 'refused' WHERE seq = 1")
    with pytest.raises((sqlite3.DatabaseError, psycopg.Error)):
        raw("DELETE FROM {events} WHERE seq = 1")
    assert [e.state for e in store.history("u1")] == [U, G]


def test_survives_reopen(backend: Backend) -> None:
    make, _ = backend
    first = make()
    first.register("u1", "BR", secret(1), NOW)
    first.change("u1", G, "user", NOW)
    first.close()
    again = make()
    status = again.status("u1")
    assert status is not None
    assert status.state is G
    assert len(again.history("u1")) == 2


def test_concurrent_changes_from_two_replicas_never_fork(backend: Backend) -> None:
    make, _ = backend
    replicas = [make(), make()]
    replicas[0].register("u1", "US", secret(1), NOW)
    errors: list[BaseException] = []

    def worker(store: ConsentStore, state: ConsentState) -> None:
        try:
            for _ in range(15):
                store.change("u1", state, "user", NOW)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=(replicas[0], G)),
        threading.Thread(target=worker, args=(replicas[1], R)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    events = replicas[1].history("u1")
    assert len(events) == 31
    assert verify_chain(events, account="u1") == events[-1]
    status = replicas[0].status("u1")
    assert status is not None
    assert status.seq == 30


def test_unreachable_postgres_is_a_store_error() -> None:
    with pytest.raises(StoreError):
        PostgresStore("postgresql://postgres@127.0.0.1:1/none?connect_timeout=1")


def test_unopenable_sqlite_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError):
        SqliteStore(tmp_path / "dir.db")


def _paged(store: ConsentStore, names: list[str], limit: int) -> list[str]:
    """Register ``names``, then read every account back ``limit`` at a time."""
    for i, name in enumerate(names):
        store.register(name, "US", secret(i), NOW)
    seen: list[str] = []
    after = ""
    while page := store.accounts(after, limit):
        seen += page
        after = page[-1]
    return seen


def test_accounts_pages_in_order(backend: Backend) -> None:
    names = ["b", "a", "B", "a.1", "a-1", "Z9", "0"]
    assert _paged(backend[0](), names, 2) == sorted(names)


def test_postgres_pages_in_code_point_order_under_any_collation(postgres: PostgresServer) -> None:
    """Paging compares with the order it sorts by: under an ICU collation ("a" < "B")
    the next page after "B" must still hold "a" (code-point order, like SQLite)."""
    store = open_store(postgres.new_database(icu_locale="en"))
    names = ["b", "a", "B", "c", "Z9", "0"]
    try:
        assert _paged(store, names, 1) == sorted(names)
    finally:
        store.close()


def test_audit_passes_then_names_tampering(backend: Backend) -> None:
    make, raw = backend
    store = make()
    for i in range(5):
        store.register(f"u{i}", "DE", secret(i), NOW)
        store.change(f"u{i}", G, "user", NOW)
    store.change("u2", R, "objection", NOW)
    assert audit_store(store, page=2) == type(audit_store(store))(accounts=5, events=11)

    # Someone flips the status the export reads, without an event: the audit says so.
    raw("UPDATE {accounts} SET state = 'granted' WHERE account = 'u2'")
    with pytest.raises(VerificationError) as info:
        audit_store(store)
    assert info.value.check == "consent.audit.status"

    raw("UPDATE {accounts} SET state = 'refused' WHERE account = 'u2'")
    audit_store(store)

    # Someone with DDL rights drops the guard and rewrites an event: the chain says so.
    raw("{drop_trigger}; UPDATE {events} SET state = 'granted' WHERE account = 'u2' AND seq = 2")
    with pytest.raises(VerificationError) as info:
        audit_store(store)
    assert info.value.check == "consent.chain.hash"
