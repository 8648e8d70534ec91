"""One contract for the replicas' key sequence store and its lease: a real Redis and a real
PostgreSQL (issue 16 item 1)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from privproc.errors import LeaseLostError, MisuseError, StoreError
from privproc.stores.keyseq import (
    KeySequence,
    KeySequenceStore,
    PostgresKeySequenceStore,
    RedisKeySequenceStore,
    StoredKey,
    decode_sequence,
    encode_sequence,
)
from tests._postgres import PostgresServer, running_postgres
from tests._redis import free_port, redis_url

__all__ = ["redis_url"]

KEY = StoredKey(b"config", b"wrapped", 10, 20, recorded=False)
Store = RedisKeySequenceStore | PostgresKeySequenceStore


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def postgres_db(postgres: PostgresServer) -> str:
    return postgres.new_database()


@pytest.fixture(params=["redis", "postgres"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _open(request: pytest.FixtureRequest, backend: str, name: str) -> Store:
    if backend == "redis":
        return RedisKeySequenceStore(request.getfixturevalue("redis_url"), prefix=name + ":")
    return PostgresKeySequenceStore(request.getfixturevalue("postgres_db"), name=name)


@pytest.fixture
def store(request: pytest.FixtureRequest, backend: str) -> Iterator[Store]:
    s = _open(request, backend, f"t-{uuid.uuid4().hex}")
    yield s
    s.close()


def test_is_a_key_sequence_store(store: Store) -> None:
    assert isinstance(store, KeySequenceStore)


def test_one_holder_at_a_time(store: Store) -> None:
    assert store.acquire("a", 5)
    assert store.acquire("a", 5)  # renewal
    assert not store.acquire("b", 5)
    store.release("b")  # not b's: no effect
    assert not store.acquire("b", 5)
    store.release("a")
    assert store.acquire("b", 5)


def test_lease_expires(store: Store) -> None:
    assert store.acquire("a", 0.2)
    deadline = time.monotonic() + 10
    while not store.acquire("b", 5):
        assert time.monotonic() < deadline, "lease never expired"
        time.sleep(0.05)


def test_save_is_fenced_by_lease_and_generation(store: Store) -> None:
    assert store.load() is None
    assert store.acquire("a", 5)
    store.save("a", KeySequence(1, (KEY,)))
    assert store.load() == KeySequence(1, (KEY,))
    with pytest.raises(LeaseLostError, match="generation"):
        store.save("a", KeySequence(1, ()))  # does not follow 1
    with pytest.raises(LeaseLostError, match="generation"):
        store.save("a", KeySequence(3, ()))
    with pytest.raises(LeaseLostError, match="lease"):
        store.save("b", KeySequence(2, ()))  # not the holder
    store.save("a", KeySequence(2, ()))
    assert store.load() == KeySequence(2, ())


def test_a_lapsed_holder_cannot_overwrite_its_successor(store: Store) -> None:
    assert store.acquire("a", 0.1)
    time.sleep(0.3)
    assert store.acquire("b", 5)
    with pytest.raises(LeaseLostError):
        store.save("a", KeySequence(1, (KEY,)))
    assert store.load() is None


def test_replica_reports_expire(store: Store) -> None:
    store.report_loaded("gateway-1", 3, 5)
    store.report_loaded("gateway-2", 2, 0.2)
    assert store.loaded() == {"gateway-1": 3, "gateway-2": 2}
    deadline = time.monotonic() + 10
    while "gateway-2" in store.loaded():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert store.loaded() == {"gateway-1": 3}


def test_codec_round_trip_and_corrupt_records() -> None:
    seq = KeySequence(4, (KEY, StoredKey(b"c2", b"w2", 20, 40, recorded=True)))
    assert decode_sequence(encode_sequence(seq)) == seq
    for bad in (
        b"not json",
        b"{}",
        b'{"generation": 1, "keys": [{"config": "zz"}]}',
        b'{"generation": true, "keys": []}',
        b'{"generation": 0, "keys": []}',
        b'{"generation": 1, "keys": [{"config": "aa", "wrapped": "bb", "not_before": 5,'
        b' "not_after": 4, "recorded": false}]}',
        b'{"generation": 1, "keys": [{"config": "aa", "wrapped": "bb", "not_before": 1,'
        b' "not_after": 4, "recorded": 1}]}',
    ):
        with pytest.raises(StoreError, match="corrupt"):
            decode_sequence(bad)


def test_a_corrupt_stored_record_fails_closed(request: pytest.FixtureRequest, backend: str) -> None:
    name = f"t-{uuid.uuid4().hex}"
    store = _open(request, backend, name)
    if backend == "redis":
        import redis

        redis.Redis.from_url(request.getfixturevalue("redis_url")).set(
            name + ":sequence", b"garbage"
        )
    else:
        import psycopg

        with psycopg.connect(request.getfixturevalue("postgres_db"), autocommit=True) as conn:
            conn.execute(
                "INSERT INTO privproc_keyseq(name, generation, body) VALUES (%s, 1, %s)",
                (name, b"garbage"),
            )
    with pytest.raises(StoreError, match="corrupt"):
        store.load()
    store.close()


def test_misuse(store: Store) -> None:
    with pytest.raises(MisuseError):
        store.acquire("", 5)
    with pytest.raises(MisuseError):
        store.acquire("a", 0)
    with pytest.raises(MisuseError):
        KeySequence(0, ())
    with pytest.raises(MisuseError):
        StoredKey(b"c", b"w", 5, 5, recorded=False)


def test_unreachable_redis_is_a_store_error() -> None:
    dead = RedisKeySequenceStore(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    for call in (lambda: dead.acquire("a", 5), dead.load, dead.loaded):
        with pytest.raises(StoreError, match="Redis failed"):
            call()


def test_unreachable_postgres_is_a_store_error() -> None:
    with pytest.raises(StoreError, match="PostgreSQL failed"):
        PostgresKeySequenceStore(
            f"postgresql://postgres@127.0.0.1:{free_port()}/postgres", connect_timeout=1
        )
