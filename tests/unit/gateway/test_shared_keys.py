"""Gateway replicas share one key sequence through a real Redis (issue 16 item 1)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from privproc import ohttp
from privproc.errors import KekMismatchError, KeyUnwrapError
from privproc.gateway.kek import Kek
from privproc.gateway.keys import ActiveKey
from privproc.gateway.shared import SharedKeys
from privproc.stores.keyseq import KeySequence, PostgresKeySequenceStore, RedisKeySequenceStore
from tests._postgres import running_postgres
from tests._redis import redis_url

__all__ = ["redis_url"]

KEK = Kek(b"\x11" * 32)
LIFETIME, ANNOUNCE = 100, 30


class _Clock:
    """The replicas' clock (one host: one clock), moved by the test."""

    def __init__(self) -> None:
        self.now = 0

    def __call__(self) -> float:
        return float(self.now)


CLOCK = _Clock()


class _Ledger:
    """Stands in for the ledger's append: the records in order."""

    def __init__(self) -> None:
        self.records: list[ActiveKey] = []

    def add(self, entry: ActiveKey) -> None:
        self.records.append(entry)


@pytest.fixture
def prefix() -> str:
    return f"t:{uuid.uuid4().hex}:"


@pytest.fixture
def ledger() -> _Ledger:
    return _Ledger()


def _replica(
    url: str, prefix: str, name: str, ledger: _Ledger, kek: Kek = KEK, ttl: float = 5.0
) -> SharedKeys:
    return SharedKeys(
        RedisKeySequenceStore(url, prefix=prefix),
        kek,
        replica=name,
        lifetime=LIFETIME,
        announce=ANNOUNCE,
        record=ledger.add,
        first_start=lambda now: (now, 1),
        lease_ttl=ttl,
        listing_delay=1,
        clock=CLOCK,
    )


@pytest.fixture
def replicas(redis_url: str, prefix: str, ledger: _Ledger) -> Iterator[list[SharedKeys]]:
    made = [_replica(redis_url, prefix, f"gateway-{i}", ledger) for i in (1, 2, 3)]
    yield made
    for r in made:
        r.close()


def _round(replicas: list[SharedKeys], now: int) -> None:
    CLOCK.now = now
    for r in replicas:
        r.tick(now)


def test_one_sequence_recorded_once_served_identically(
    replicas: list[SharedKeys], ledger: _Ledger
) -> None:
    _round(replicas, 1000)
    holders = [r for r in replicas if r.holder]
    assert len(holders) == 1
    # No replica served yet (none had reported), so the first key is published at once.
    assert len(ledger.records) == 1
    assert all(len(r.server_keys) == 1 for r in replicas)
    _round(replicas, 1001)
    assert len(ledger.records) == 1
    _round(replicas, 1002)
    served = {r.encoded() for r in replicas}
    assert len(served) == 1
    assert served != {ohttp.encode_list([])}
    assert ohttp.decode_list(served.pop())[0] == ledger.records[0].key.config
    keys = {tuple(k.private_key for k in r.server_keys) for r in replicas}
    assert len(keys) == 1


def test_rotation_happens_once_per_sequence(replicas: list[SharedKeys], ledger: _Ledger) -> None:
    for now in range(1000, 1004):
        _round(replicas, now)
    due = 1000 + LIFETIME - ANNOUNCE
    holder = replicas[0]
    assert holder.holder
    CLOCK.now = due
    holder.tick(due)
    assert len(holder.server_keys) == 2
    assert len(ledger.records) == 1  # made, stored, but gateway-2 and -3 serve without it
    CLOCK.now = due + 1
    holder.tick(due + 1)
    assert len(ledger.records) == 1
    for now in range(due + 2, due + 5):
        _round(replicas, now)
    assert [r.key.config.key_id for r in ledger.records] == [1, 2]
    second = ledger.records[1]
    assert second.not_before == 1000 + LIFETIME  # announced ANNOUNCE seconds ahead
    assert len({r.encoded() for r in replicas}) == 1
    configs = ohttp.decode_list(replicas[0].encoded())
    assert [c.key_id for c in configs] == [1, 2]  # current first, then the announced one
    # Past the first key's window: it is dropped everywhere, the second is current and
    # the third (due at 1170) announced.
    for now in range(1000 + 2 * LIFETIME, 1000 + 2 * LIFETIME + 3):
        _round(replicas, now)
    assert {tuple(c.key_id for c in ohttp.decode_list(r.encoded())) for r in replicas} == {(2, 3)}


def test_a_new_holder_continues_the_sequence(redis_url: str, prefix: str, ledger: _Ledger) -> None:
    first = _replica(redis_url, prefix, "gateway-1", ledger, ttl=0.2)
    second = _replica(redis_url, prefix, "gateway-2", ledger)
    first.tick(1000)
    first.tick(1001)
    assert first.holder
    assert len(ledger.records) == 1
    time.sleep(0.4)  # gateway-1 died: its lease and its report lapse
    due = 1000 + LIFETIME - ANNOUNCE
    second.tick(due)
    second.tick(due + 1)
    assert second.holder
    assert [r.key.config.key_id for r in ledger.records] == [1, 2]


def test_the_store_never_holds_a_private_key_in_clear(
    replicas: list[SharedKeys], redis_url: str, prefix: str
) -> None:
    import redis

    _round(replicas, 1000)
    _round(replicas, 1001)
    client = redis.Redis.from_url(redis_url)
    values = [client.get(k) or b"" for k in client.scan_iter(match=prefix + "*")]
    private = replicas[0].server_keys[0].private_key
    assert values
    assert not any(private in v or private.hex().encode() in v for v in values)


def test_a_replica_with_another_kek_refuses(
    replicas: list[SharedKeys], redis_url: str, prefix: str, ledger: _Ledger
) -> None:
    _round(replicas, 1000)
    stranger = _replica(redis_url, prefix, "gateway-9", ledger, kek=Kek(b"\x22" * 32))
    with pytest.raises(KekMismatchError):
        stranger.tick(1001)
    assert stranger.server_keys == []


def test_a_tampered_store_serves_nothing_new(
    replicas: list[SharedKeys], redis_url: str, prefix: str, ledger: _Ledger
) -> None:
    _round(replicas, 1000)
    store = RedisKeySequenceStore(redis_url, prefix=prefix)
    seq = store.load()
    assert seq is not None
    key = seq.keys[0]
    flipped = key.wrapped[:-1] + bytes([key.wrapped[-1] ^ 1])
    holder = next(r for r in replicas if r.holder)
    store.save(
        holder._replica,
        KeySequence(
            seq.generation + 1,
            (type(key)(key.config, flipped, key.not_before, key.not_after, key.recorded),),
        ),
    )
    fresh = _replica(redis_url, prefix, "gateway-8", ledger)
    with pytest.raises(KeyUnwrapError):
        fresh.tick(1001)
    assert fresh.server_keys == []


def test_a_wiped_store_gets_the_served_sequence_back(
    replicas: list[SharedKeys], redis_url: str, prefix: str, ledger: _Ledger
) -> None:
    import redis

    _round(replicas, 1000)
    _round(replicas, 1001)
    served = replicas[0].encoded()
    client = redis.Redis.from_url(redis_url)
    client.delete(*client.scan_iter(match=prefix + "*"))  # Redis restarted empty
    _round(replicas, 1002)
    _round(replicas, 1003)
    assert {r.encoded() for r in replicas} == {served}
    assert len(ledger.records) == 1  # no second sequence, nothing recorded again


def test_replicas_switch_listing_at_the_same_second(
    replicas: list[SharedKeys], ledger: _Ledger
) -> None:
    """A recorded key is listed from the second the holder set, on every replica, and
    unlisted at its not_after by the clock alone (no replica needs a tick for it)."""
    _round(replicas, 1000)
    assert all(r.encoded() == ohttp.encode_list([]) for r in replicas)  # recorded, not listed
    CLOCK.now = 1001
    assert len({r.encoded() for r in replicas}) == 1
    assert [c.key_id for c in ohttp.decode_list(replicas[2].encoded())] == [1]
    CLOCK.now = ledger.records[0].not_after
    assert all(r.encoded() == ohttp.encode_list([]) for r in replicas)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL (the fixture's name marks the test ``services``)."""
    with running_postgres() as pg:
        yield pg.new_database()


def test_the_same_schedule_on_postgresql(ledger: _Ledger, postgres_url: str) -> None:
    """The PostgreSQL store (``gateway --keys-database``): one sequence, one rotation."""
    stores = [PostgresKeySequenceStore(postgres_url) for _ in range(3)]
    try:
        replicas = [
            SharedKeys(
                store,
                KEK,
                replica=f"gateway-{i}",
                lifetime=LIFETIME,
                announce=ANNOUNCE,
                record=ledger.add,
                first_start=lambda now: (now, 1),
                listing_delay=1,
                clock=CLOCK,
            )
            for i, store in enumerate(stores, 1)
        ]
        for now in (1000, 1001, 1002):
            _round(replicas, now)
        due = 1000 + LIFETIME - ANNOUNCE
        for now in range(due, due + 4):
            _round(replicas, now)
        assert [r.key.config.key_id for r in ledger.records] == [1, 2]
        assert sum(r.holder for r in replicas) == 1
        assert len({r.encoded() for r in replicas}) == 1
        assert [c.key_id for c in ohttp.decode_list(replicas[1].encoded())] == [1, 2]
    finally:
        for store in stores:
            store.close()


def test_a_failed_ledger_append_is_retried_and_recorded_once(redis_url: str, prefix: str) -> None:
    from privproc.errors import RemoteError

    records: list[ActiveKey] = []
    down = [True]

    def add(entry: ActiveKey) -> None:
        if down[0]:
            raise RemoteError("ledger unreachable", status=0)
        records.append(entry)

    replica = SharedKeys(
        RedisKeySequenceStore(redis_url, prefix=prefix),
        KEK,
        replica="gateway-1",
        lifetime=LIFETIME,
        announce=ANNOUNCE,
        record=add,
        first_start=lambda now: (now, 1),
        listing_delay=1,
        clock=CLOCK,
    )
    CLOCK.now = 1000
    with pytest.raises(RemoteError):
        replica.tick(1000)
    assert len(replica.server_keys) == 1  # stored and loaded, not published
    assert replica.encoded() == ohttp.encode_list([])
    down[0] = False
    CLOCK.now = 1001
    replica.tick(1001)
    replica.tick(1002)
    CLOCK.now = 1003
    assert [r.key.config.key_id for r in records] == [1]
    assert [c.key_id for c in ohttp.decode_list(replica.encoded())] == [1]
    replica.close()
