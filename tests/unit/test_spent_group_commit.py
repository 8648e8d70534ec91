"""Issue 18 item 3: the SQLite spent store's group commit.

Concurrent spends share one durable COMMIT; each keeps its own answer (a key spent twice
in one group is fresh once); a failed commit fails every spend of its group.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from privproc.errors import StoreError
from privproc.stores.spent import SqliteSpentStore


def _spend_all(store: SqliteSpentStore, keys: list[bytes]) -> list[bool | str]:
    now = time.time()
    results: list[bool | str] = [False] * len(keys)

    def one(i: int) -> None:
        try:
            results[i] = store.spend(keys[i], expires_at=now + 60, now=now)
        except StoreError as exc:
            results[i] = exc.code

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(keys))]
    with store._lock:  # hold the connection: the first leader waits, the rest queue up
        for t in threads:
            t.start()
        deadline = time.monotonic() + 10
        while len(store._queue) < len(keys) - 1 and time.monotonic() < deadline:
            time.sleep(0.005)
    for t in threads:
        t.join(10)
    return results


def test_queued_spends_share_one_commit_and_keep_their_answers(tmp_path: Path) -> None:
    store = SqliteSpentStore(tmp_path / "spent.db")
    try:
        keys = [b"k%d" % i for i in range(30)] + [b"k0", b"k1"]  # two spent twice
        results = _spend_all(store, keys)
        assert results.count(True) == 30
        assert results.count(False) == 2
        # the first leader committed its own spend, the next one all 31 queued behind it
        assert store.commits == 2
        now = time.time()
        assert not any(store.spend(k, expires_at=now + 60, now=now) for k in set(keys))
    finally:
        store.close()


def test_a_failed_commit_fails_its_whole_group(tmp_path: Path) -> None:
    store = SqliteSpentStore(tmp_path / "spent.db")
    store._db.close()  # every statement now raises sqlite3.ProgrammingError
    results = _spend_all(store, [b"a%d" % i for i in range(8)])
    assert results == ["store-unavailable"] * 8
    assert store.commits == 0
    with pytest.raises(StoreError):
        store.spend(b"again", expires_at=time.time() + 60, now=time.time())
