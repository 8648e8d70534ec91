"""The ledger on a real PostgreSQL server: same tree, same proofs, same service."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from privproc.ledger.checkpoint import open_checkpoint
from privproc.ledger.cosignature import verifier_from_vkey
from privproc.ledger.merkle import MemoryTree, consistency_proof, inclusion_proof
from privproc.ledger_service.app import LedgerConfig, build_app
from privproc.ledger_service.postgres import PostgresLedgerStore
from tests._postgres import running_postgres


@pytest.fixture(scope="module")
def pg() -> Iterator[str]:
    with running_postgres() as server:
        yield server.new_database()


def _note(size: int, root: bytes) -> bytes:
    return b"%d %s" % (size, root.hex().encode())


def test_store_matches_memory_tree(pg: str) -> None:
    store = PostgresLedgerStore(pg)
    try:
        _check_store(store)
    finally:
        store.close()
    again = PostgresLedgerStore(pg)  # a restart sees the same log
    try:
        assert again.size == 306
        assert again.root(306) == _memory().root()
    finally:
        again.close()


_BATCHES = ([b"a"], [b"b%d" % i for i in range(300)], [b"c"] * 5)


def _memory() -> MemoryTree:
    mem = MemoryTree()
    for batch in _BATCHES:
        for e in batch:
            mem.append(e)
    return mem


def _check_store(store: PostgresLedgerStore) -> None:
    mem = MemoryTree()
    for batch in _BATCHES:
        assert store.append(batch, _note) == mem.size
        for e in batch:
            mem.append(e)
    n = mem.size
    assert store.root(n) == mem.root()
    assert store.latest_checkpoint() == (n, _note(n, mem.root()))
    for i in (0, 7, 255, 256, n - 1):
        assert store.inclusion_proof(i, n) == inclusion_proof(mem, i, n)
    assert store.consistency_proof(10, n) == consistency_proof(mem, 10, n)
    assert store.hashes(8, 0, 2) == [mem.node(8, 0)]
    assert store.entries(300, 400) == [b"b299"] + [b"c"] * 5
    # The first witnessed note of each size stays; the smallest size above an index wins.
    assert store.first_witnessed(0) is None
    store.record_witnessed(10, b"ten")
    store.record_witnessed(10, b"ten again")
    store.record_witnessed(n, b"all")
    assert store.first_witnessed(0) == b"ten"
    assert store.first_witnessed(9) == b"ten"
    assert store.first_witnessed(10) == b"all"
    assert store.first_witnessed(n) is None


def test_service_on_postgres(pg: str, tmp_path: Path) -> None:
    import psycopg

    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute("CREATE DATABASE ledger_service")
    url = pg.rsplit("/", 1)[0] + "/ledger_service"
    config = LedgerConfig(home=tmp_path / "ledger", origin="pg.test/ledger", database=url)
    with TestClient(build_app(config)) as c:
        token = (tmp_path / "ledger" / "token").read_text().strip()
        for i in range(3):
            r = c.post(
                "/add", content=b"entry %d" % i, headers={"Authorization": f"Bearer {token}"}
            )
            assert r.json() == {"index": i}
        log = verifier_from_vkey(c.get("/.well-known/privproc-vkey").text.strip())
        assert open_checkpoint(c.get("/checkpoint").content, log).checkpoint.size == 3
        assert c.get("/tile/entries/000.p/3").status_code == 200
