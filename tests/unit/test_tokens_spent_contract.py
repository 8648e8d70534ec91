"""One contract for every SpentStore implementation: SQLite and a real Redis server."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from privproc.errors import MisuseError, StoreError
from privproc.stores.spent import RedisSpentStore, SqliteSpentStore
from privproc.tokens.spent import SpentStore
from tests._redis import free_port, redis_server, redis_url

__all__ = ["redis_url"]

_counter = iter(range(10**9))


def _key() -> bytes:
    return f"key-{next(_counter)}-{time.time_ns()}".encode()


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SpentStore]:
    if request.param == "sqlite":
        s: SpentStore = SqliteSpentStore(tmp_path / "spent.db")
    else:
        s = RedisSpentStore(request.getfixturevalue("redis_url"))
    yield s
    s.close()


def test_is_a_spent_store(store: SpentStore) -> None:
    assert isinstance(store, SpentStore)


def test_spends_once(store: SpentStore) -> None:
    now = time.time()
    key = _key()
    assert store.spend(key, expires_at=now + 60, now=now) is True
    assert store.spend(key, expires_at=now + 60, now=now) is False
    assert store.spend(key, expires_at=now + 120, now=now + 1) is False


def test_keys_are_independent(store: SpentStore) -> None:
    now = time.time()
    a, b = _key(), _key()
    assert store.spend(a, expires_at=now + 60, now=now)
    assert store.spend(b, expires_at=now + 60, now=now)


def test_expired_entries_can_be_spent_again(store: SpentStore) -> None:
    key = _key()
    now = time.time()
    assert store.spend(key, expires_at=now + 0.2, now=now)
    # Redis expires on its own clock: poll (bounded) until the entry is gone.
    deadline = time.monotonic() + 10
    while not store.spend(key, expires_at=time.time() + 60, now=time.time()):
        assert time.monotonic() < deadline, "expired entry never freed"
        time.sleep(0.05)
    later = time.time()
    assert not store.spend(key, expires_at=later + 60, now=later)


def test_concurrent_spends_exactly_one_wins(store: SpentStore) -> None:
    key = _key()
    now = time.time()
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        results.append(store.spend(key, expires_at=now + 60, now=now))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(results) == [False] * 7 + [True]


def test_refuses_misuse(store: SpentStore) -> None:
    now = time.time()
    with pytest.raises(MisuseError):
        store.spend(b"", expires_at=now + 1, now=now)
    with pytest.raises(MisuseError):
        store.spend(b"x" * 65, expires_at=now + 1, now=now)
    with pytest.raises(MisuseError):
        store.spend(b"x", expires_at=now, now=now)


def test_sqlite_shared_by_two_handles(tmp_path: Path) -> None:
    a = SqliteSpentStore(tmp_path / "s.db")
    b = SqliteSpentStore(tmp_path / "s.db")
    now = time.time()
    assert a.spend(b"k", expires_at=now + 60, now=now)
    assert not b.spend(b"k", expires_at=now + 60, now=now)
    a.close()
    b.close()


def test_sqlite_unreachable_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        SqliteSpentStore(tmp_path / "missing-dir" / "s.db")
    s = SqliteSpentStore(tmp_path / "s.db")
    s.close()
    with pytest.raises(StoreError):
        s.spend(b"k", expires_at=time.time() + 60, now=time.time())


def test_redis_unreachable_fails_closed() -> None:
    s = RedisSpentStore(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    with pytest.raises(StoreError):
        s.spend(b"k", expires_at=time.time() + 60, now=time.time())
    s.close()


@pytest.mark.services
def test_redis_that_goes_away_fails_closed() -> None:
    with redis_server() as url:
        s = RedisSpentStore(url, socket_timeout=0.5)
        assert s.spend(b"k", expires_at=time.time() + 60, now=time.time())
    with pytest.raises(StoreError):
        s.spend(b"k2", expires_at=time.time() + 60, now=time.time())
    s.close()


def test_redis_bad_url() -> None:
    with pytest.raises(StoreError):
        RedisSpentStore("not-a-url://x")


def test_sqlite_purges_expired_rows(tmp_path: Path) -> None:
    s = SqliteSpentStore(tmp_path / "s.db")
    s.PURGE_EVERY = 4
    now = time.time()
    for i in range(3):
        s.spend(f"old-{i}".encode(), expires_at=now + 1, now=now)
    later = now + 10
    s.spend(b"new", expires_at=later + 60, now=later)  # the 4th spend purges
    s.close()
    db = sqlite3.connect(tmp_path / "s.db")
    rows = db.execute("SELECT key FROM spent").fetchall()
    db.close()
    assert rows == [(b"new",)]
