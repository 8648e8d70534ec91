"""Ledger figures: durable batched appends per second, and proof time at 1,000,000 entries.

Each figure sits next to the SHA-256 work it cannot avoid, measured in the same run:
an append must hash its leaf and (amortized) one interior node; an inclusion proof at
one million entries must be checked with about 20 node hashes. The naive alternative
(recomputing the tree from its leaf hashes for every proof) is reported in a note.
"""

from __future__ import annotations

import os
import random
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from _common import Row, rate, row
from privproc.ledger.checkpoint import Checkpoint, sign_checkpoint
from privproc.ledger.merkle import (
    MemoryTree,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    verify_inclusion,
)
from privproc.ledger.note import Ed25519Signer
from privproc.ledger_service.storage import SqliteLedgerStore

BENCH = "ledger"
N = int(os.environ.get("PRIVPROC_BENCH_LEDGER_N", "1000000"))
BATCH = 256


_SIGNER = Ed25519Signer("bench.example/log", Ed25519PrivateKey.generate())


def _signed_note(size: int, root: bytes) -> bytes:
    """What the service stores per batch: a freshly signed checkpoint."""
    return sign_checkpoint(Checkpoint(_SIGNER.name, size, root), _SIGNER).encode()


def _unsigned(_size: int, _root: bytes) -> bytes:
    return b"checkpoint"


def _per_call(fn, reps: int) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def _http_rows() -> list[Row]:
    """Appends through the real service (uvicorn subprocess) from 16 concurrent clients,
    next to plain GET /checkpoint requests at the same concurrency. The clients are
    processes with keep-alive connections (``bench/_load.py``), so the server sets the
    rate, not the clients."""
    import socket
    import subprocess
    import sys

    import httpx

    from _load import keepalive_rate

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    src = str(Path(__file__).resolve().parents[1] / "src")
    with tempfile.TemporaryDirectory() as d:
        env = {**os.environ, "PYTHONPATH": src, "PRIVPROC_LEDGER_TOKEN": "bench-token"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "privproc", "ledger", "serve", "--port", str(port), "--home", d],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/checkpoint", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("ledger server did not start")
                time.sleep(0.05)
            clients, per = 16, 100
            get_rate = keepalive_rate(url, "/checkpoint", clients=clients, per=per)
            auth = {"Authorization": "Bearer bench-token"}
            add_rate = keepalive_rate(
                url, "/add", clients=clients, per=per, body=b"x" * 200, headers=auth
            )
            single = keepalive_rate(url, "/add", clients=1, per=50, body=b"x" * 200, headers=auth)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    return [
        row(
            BENCH,
            "append over HTTP, 16 concurrent clients",
            add_rate,
            "entries/s",
            "GET /checkpoint, 16 concurrent clients",
            get_rate,
            "durable + signed checkpoint before each answer; keep-alive client processes; "
            f"1 client alone: {single:.0f}/s (one fsync per append)",
        )
    ]


def run() -> list[Row]:
    rows: list[Row] = []
    entry = b"x" * 200
    h = leaf_hash(entry)

    def hash_work() -> None:
        leaf_hash(entry)
        node_hash(h, h)

    hash_rate = rate(hash_work)

    # Durable batched appends into SQLite (WAL, synchronous=FULL, one commit per batch).
    with tempfile.TemporaryDirectory() as d:
        store = SqliteLedgerStore(Path(d) / "bench.sqlite3")
        batches = 40
        start = time.perf_counter()
        for _ in range(batches):
            store.append([entry] * BATCH, _signed_note)
        sqlite_rate = batches * BATCH / (time.perf_counter() - start)
        store.close()
    rows.append(
        row(
            BENCH,
            f"append, SQLite durable, batch {BATCH}",
            sqlite_rate,
            "entries/s",
            "SHA-256 leaf+node per entry",
            hash_rate,
            "one signed checkpoint + fsync per batch",
        )
    )

    rows.extend(_http_rows())

    # The 1M-entry tree in memory, keeping every complete-subtree hash.
    tree = MemoryTree()
    start = time.perf_counter()
    for i in range(N):
        tree.append_leaf_hash(leaf_hash(i.to_bytes(8, "big")))
    build = time.perf_counter() - start
    rows.append(
        row(
            BENCH,
            f"append, memory tree (build {N:,})",
            N / build,
            "entries/s",
            "SHA-256 leaf+node per entry",
            hash_rate,
        )
    )

    rng = random.Random(1)
    idx = [rng.randrange(N) for _ in range(200)]
    it = iter(idx * 1000)
    proof_t = _per_call(lambda: inclusion_proof(tree, next(it), N), 200)
    twenty = _per_call(lambda: [node_hash(h, h) for _ in range(20)], 2000)
    root = tree.root()
    i0 = idx[0]
    p0 = inclusion_proof(tree, i0, N)
    lh = leaf_hash(i0.to_bytes(8, "big"))
    verify_t = _per_call(lambda: verify_inclusion(lh, i0, N, p0, root), 500)
    cons_t = _per_call(lambda: consistency_proof(tree, N // 3 + 7, N), 200)
    leaves = tree.level_hashes(0, 0, N)
    start = time.perf_counter()
    root_from_leaf_hashes(leaves)
    naive = time.perf_counter() - start
    note = f"naive recompute per proof: {naive:.2f} s"
    rows.append(
        row(
            BENCH,
            f"inclusion proof @ {N:,} (memory)",
            proof_t,
            "s",
            "20 SHA-256 node hashes",
            twenty,
            note,
        )
    )
    rows.append(
        row(BENCH, f"inclusion verify @ {N:,}", verify_t, "s", "20 SHA-256 node hashes", twenty)
    )
    rows.append(
        row(
            BENCH,
            f"consistency proof @ {N:,} (memory)",
            cons_t,
            "s",
            "20 SHA-256 node hashes",
            twenty,
        )
    )

    # The same tree in SQLite: proofs read O(log n) stored hashes.
    with tempfile.TemporaryDirectory() as d:
        store = SqliteLedgerStore(Path(d) / "big.sqlite3")
        start = time.perf_counter()
        chunk = 8192
        for s in range(0, N, chunk):
            store.append([i.to_bytes(8, "big") for i in range(s, min(N, s + chunk))], _unsigned)
        sq_build = time.perf_counter() - start
        assert store.root(N) == root
        it2 = iter(idx * 1000)
        sq_proof = _per_call(lambda: store.inclusion_proof(next(it2), N), 200)
        store.close()
    rows.append(
        row(
            BENCH,
            f"inclusion proof @ {N:,} (SQLite)",
            sq_proof,
            "s",
            "20 SHA-256 node hashes",
            twenty,
            f"SQLite build {sq_build:.1f} s",
        )
    )
    return rows


if __name__ == "__main__":
    for r in run():
        print(r)
