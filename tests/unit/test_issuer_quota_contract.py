"""One contract for every QuotaStore implementation: SQLite and a real Redis server."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from privproc.errors import MisuseError, QuotaError, ReplayedRequestError, StoreError
from privproc.issuer.quota import QuotaStore, RedisQuotaStore, SqliteQuotaStore
from tests._redis import free_port, redis_url

__all__ = ["redis_url"]


@pytest.fixture(params=["sqlite", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QuotaStore]:
    if request.param == "sqlite":
        s: QuotaStore = SqliteQuotaStore(tmp_path / "quota.db")
    else:
        s = RedisQuotaStore(request.getfixturevalue("redis_url"))
    yield s
    s.close()


def _account() -> str:
    return f"acct-{uuid.uuid4().hex}"


def test_counts_up_to_the_limit_then_refuses(store: QuotaStore) -> None:
    a = _account()
    assert [store.take(a, "2026-11-23", 3) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(QuotaError) as info:
        store.take(a, "2026-11-23", 3)
    assert info.value.http_status == 429
    assert "quota" in str(info.value)
    with pytest.raises(QuotaError):  # a refusal does not move the count
        store.take(a, "2026-11-23", 3)
    assert store.take(a, "2026-11-23", 4) == 4


def test_days_and_accounts_are_separate(store: QuotaStore) -> None:
    a, b = _account(), _account()
    store.take(a, "2026-11-23", 1)
    assert store.take(a, "2026-11-24", 1) == 1
    assert store.take(b, "2026-11-23", 1) == 1


def test_zero_limit_refuses(store: QuotaStore) -> None:
    with pytest.raises(QuotaError):
        store.take(_account(), "2026-11-23", 0)


def test_concurrent_takes_never_pass_the_limit(store: QuotaStore) -> None:
    a = _account()
    ok: list[int] = []
    refused: list[int] = []
    barrier = threading.Barrier(10)

    def worker() -> None:
        barrier.wait()
        try:
            ok.append(store.take(a, "2026-11-23", 4))
        except QuotaError:
            refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert sorted(ok) == [1, 2, 3, 4]
    assert len(refused) == 6


def test_token_request_replay_cache_refuses_a_second_use(store: QuotaStore) -> None:
    """first_use records a key once until it expires; stores shared by issuers share it."""
    k, other = os.urandom(32), os.urandom(32)
    now = time.time()
    store.first_use(k, now + 0.2, now=now)
    with pytest.raises(ReplayedRequestError) as info:
        store.first_use(k, now + 0.2, now=now)
    assert info.value.check == "issuer.replay"
    assert info.value.http_status == 403
    store.first_use(other, now + 60, now=now)
    time.sleep(0.3)
    store.first_use(k, time.time() + 60, now=time.time())  # expired: usable again
    with pytest.raises(ReplayedRequestError):
        store.first_use(k, time.time() + 60, now=time.time())
    with pytest.raises(MisuseError):
        store.first_use(b"short", now + 1, now=now)


def test_token_request_replay_cache_shared_between_two_sqlite_stores(tmp_path: Path) -> None:
    a, b = SqliteQuotaStore(tmp_path / "q.db"), SqliteQuotaStore(tmp_path / "q.db")
    k = os.urandom(32)
    a.first_use(k, 2e9, now=1e9)
    with pytest.raises(ReplayedRequestError):
        b.first_use(k, 2e9, now=1e9)
    a.close()
    b.close()


def test_misuse(store: QuotaStore) -> None:
    with pytest.raises(MisuseError):
        store.take("", "2026-11-23", 1)
    with pytest.raises(MisuseError):
        store.take("a", "today", 1)


def test_unreachable_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(StoreError):
        SqliteQuotaStore(tmp_path / "nope" / "q.db")
    r = RedisQuotaStore(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    with pytest.raises(StoreError):
        r.take("a", "2026-11-23", 1)
    with pytest.raises(StoreError):
        r.first_use(os.urandom(32), time.time() + 1, now=time.time())
