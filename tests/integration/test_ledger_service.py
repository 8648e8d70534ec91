"""The ledger and witness apps in memory (starlette TestClient), before real sockets."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from privproc.ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from privproc.ledger.cosignature import CosignatureVerifier, verifier_from_vkey
from privproc.ledger.merkle import MemoryTree, consistency_proof, leaf_hash, verify_inclusion
from privproc.ledger.note import Ed25519Signer, Note
from privproc.ledger.tiles import TileRef, decode_entry_bundle
from privproc.ledger.tlog_witness import AddCheckpointRequest
from privproc.ledger.verifier import InclusionBundle
from privproc.ledger_service.app import LedgerConfig
from privproc.ledger_service.app import build_app as ledger_app
from privproc.witness.service import WitnessConfig
from privproc.witness.service import build_app as witness_app

ORIGIN = "test.example/ledger"


@pytest.fixture
def ledger(tmp_path: Path):  # type: ignore[no-untyped-def]
    with TestClient(ledger_app(LedgerConfig(home=tmp_path / "ledger", origin=ORIGIN))) as c:
        c.headers["Authorization"] = "Bearer " + (tmp_path / "ledger" / "token").read_text().strip()
        yield c


def test_add_and_read_back(ledger: TestClient) -> None:
    vkey = ledger.get("/.well-known/privproc-vkey").text.strip()
    log = verifier_from_vkey(vkey)
    entries = [f"entry {i}".encode() for i in range(300)]
    for i, e in enumerate(entries):
        r = ledger.post("/add", content=e)
        assert r.status_code == 200
        assert r.json() == {"index": i}
    r = ledger.get("/checkpoint")
    assert r.headers["content-type"] == "text/plain; charset=utf-8"
    cp = open_checkpoint(r.content, log).checkpoint
    assert cp.size == 300
    t = MemoryTree()
    for e in entries:
        t.append(e)
    assert cp.root_hash == t.root()
    full = ledger.get("/tile/0/000")
    assert full.headers["content-type"] == "application/octet-stream"
    assert full.content == b"".join(t.level_hashes(0, 0, 256))
    assert ledger.get("/tile/0/001.p/44").content == b"".join(t.level_hashes(0, 256, 300))
    assert ledger.get("/tile/1/000.p/1").content == t.node(8, 0)
    assert ledger.get("/tile/0/000.p/5").status_code == 200  # a prefix stays served
    assert decode_entry_bundle(ledger.get("/tile/entries/001.p/44").content, 44) == entries[256:]
    assert ledger.get("/tile/0/001").status_code == 404
    assert ledger.get("/tile/0/001.p/45").status_code == 404
    assert ledger.get("/tile/bad").status_code == 404
    b = InclusionBundle.decode(ledger.get("/bundle", params={"index": 260}).content)
    verify_inclusion(leaf_hash(entries[260]), 260, 300, b.proof, cp.root_hash)
    proof = ledger.get("/proof/consistency", params={"old": 7, "new": 300}).json()["proof"]
    assert [base64.b64decode(p) for p in proof] == consistency_proof(t, 7, 300)
    assert ledger.get("/proof/inclusion", params={"index": 5, "size": 301}).status_code == 404
    assert ledger.get("/proof/inclusion", params={"index": "x", "size": 3}).status_code == 400
    assert TileRef(0, 1, 44).path() == "tile/0/001.p/44"


def test_add_needs_the_token(ledger: TestClient) -> None:
    r = ledger.post("/add", content=b"x", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert ledger.post("/add", content=b"x" * 70000).status_code == 413
    for missing in (
        "",
        "Bearer",
        "Bearer ",
        "Basic abc",
        "Token " + ledger.headers["Authorization"],
    ):
        r = ledger.post("/add", content=b"x", headers={"Authorization": missing})
        assert r.status_code == 401, missing
    # RFC 9110 §11.1: the scheme name is case-insensitive.
    token = ledger.headers["Authorization"].removeprefix("Bearer ")
    r = ledger.post("/add", content=b"x", headers={"Authorization": "bearer " + token})
    assert r.status_code == 200


# --- witness ---------------------------------------------------------------------------------
LOG = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())


def _tree(n: int, fork: bool = False) -> MemoryTree:
    t = MemoryTree()
    for i in range(n):
        t.append(b"fork" if fork and i == 2 else i.to_bytes(4, "big"))
    return t


def _req(
    t: MemoryTree, old: int, size: int, signer: Ed25519Signer = LOG, origin: str = ORIGIN
) -> bytes:
    note = sign_checkpoint(Checkpoint(origin, size, t.root(size)), signer).encode()
    return AddCheckpointRequest(old, tuple(consistency_proof(t, old, size)), note).encode()


@pytest.fixture
def witness(tmp_path: Path):  # type: ignore[no-untyped-def]
    cfg = WitnessConfig(
        home=tmp_path / "w",
        name="w.example",
        logs={ORIGIN: LOG.verifier()},
        clock=lambda: 1_800_000_000,
    )
    with TestClient(witness_app(cfg)) as c:
        yield c


def test_witness_protocol(witness: TestClient) -> None:
    w = verifier_from_vkey(witness.get("/.well-known/privproc-vkey").text.strip())
    assert isinstance(w, CosignatureVerifier)
    t = _tree(20)
    r = witness.post("/add-checkpoint", content=_req(t, 0, 5))
    assert r.status_code == 200
    note = Note.decode(sign_checkpoint(Checkpoint(ORIGIN, 5, t.root(5)), LOG).encode() + r.content)
    opened = open_checkpoint(note.encode(), LOG.verifier(), [w])
    assert opened.cosignatures[0].timestamp == 1_800_000_000
    # Stale old size: 409 with the known size.
    r = witness.post("/add-checkpoint", content=_req(t, 0, 9))
    assert r.status_code == 409
    assert r.headers["content-type"].startswith("text/x.tlog.size")
    assert r.text == "5\n"
    assert witness.post("/add-checkpoint", content=_req(t, 5, 9)).status_code == 200
    # Same size again: re-cosigned.
    assert witness.post("/add-checkpoint", content=_req(t, 9, 9)).status_code == 200
    # Rollback: old above the size is a 400; old not the known size is a 409.
    small = sign_checkpoint(Checkpoint(ORIGIN, 7, t.root(7)), LOG).encode()
    assert (
        witness.post(
            "/add-checkpoint", content=AddCheckpointRequest(9, (), small).encode()
        ).status_code
        == 400
    )
    assert witness.post("/add-checkpoint", content=_req(t, 7, 7)).status_code == 409
    # Fork at the same size: 409.
    forked = _tree(20, fork=True)
    r = witness.post("/add-checkpoint", content=_req(forked, 9, 9))
    assert r.status_code == 409
    assert r.headers["x-privproc-reason"] == "witness.fork"
    # Fork that grows: the consistency proof fails, 422.
    bad = AddCheckpointRequest(
        9,
        tuple(consistency_proof(forked, 9, 15)),
        sign_checkpoint(Checkpoint(ORIGIN, 15, forked.root(15)), LOG).encode(),
    )
    assert witness.post("/add-checkpoint", content=bad.encode()).status_code == 422
    # Unknown origin 404, wrong key 403, garbage 400.
    assert (
        witness.post("/add-checkpoint", content=_req(t, 0, 3, origin="other.example")).status_code
        == 404
    )
    impostor = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
    assert (
        witness.post("/add-checkpoint", content=_req(t, 9, 12, signer=impostor)).status_code == 403
    )
    assert witness.post("/add-checkpoint", content=b"old x\n\nhello").status_code == 400
    assert witness.post("/add-checkpoint", content=_req(t, 9, 12)).status_code == 200


def test_witness_state_survives_restart(tmp_path: Path) -> None:
    cfg = WitnessConfig(
        home=tmp_path / "w", name="w.example", logs={ORIGIN: LOG.verifier()}, clock=lambda: 5
    )
    t = _tree(10)
    with TestClient(witness_app(cfg)) as c:
        assert c.post("/add-checkpoint", content=_req(t, 0, 6)).status_code == 200
    with TestClient(witness_app(cfg)) as c:  # a new process on the same home
        r = c.post("/add-checkpoint", content=_req(t, 0, 4))
        assert r.status_code == 409
        assert r.text == "6\n"
        assert c.post("/add-checkpoint", content=_req(t, 6, 10)).status_code == 200


def test_witness_store_failures_are_store_errors(tmp_path: Path) -> None:
    """A database failure on read or write is StoreError (503), never a bare sqlite3 error."""
    from privproc.errors import StoreError
    from privproc.ledger.tlog_witness import WitnessedState
    from privproc.witness.service import WitnessStore

    store = WitnessStore(tmp_path / "w.sqlite3")
    store.close()
    with pytest.raises(StoreError):
        store.get("example.com/log")
    with pytest.raises(StoreError):
        store.put(WitnessedState("example.com/log", 1, b"\0" * 32), b"note")


def test_witness_decides_off_the_event_loop(
    witness: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lookup, the checks and the durable commit run in a worker thread, so one slow
    disk write does not stall every other request of the witness."""
    import asyncio

    from privproc.witness.service import WitnessStore

    in_loop: list[bool] = []
    put = WitnessStore.put

    def spy(self: WitnessStore, *args: object) -> None:
        try:
            asyncio.get_running_loop()
            in_loop.append(True)
        except RuntimeError:
            in_loop.append(False)
        put(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(WitnessStore, "put", spy)
    assert witness.post("/add-checkpoint", content=_req(_tree(5), 0, 5)).status_code == 200
    assert in_loop == [False]


def test_first_witnessed_checkpoint_is_kept(ledger: TestClient, tmp_path: Path) -> None:
    """The announcement proof of the key-consistency rule: the first quorum-witnessed
    note of each size, the smallest size above an index (issue 12 item 1)."""
    from privproc.ledger_service.storage import SqliteLedgerStore

    assert ledger.get("/checkpoint/witnessed", params={"index": 0}).status_code == 404
    assert ledger.get("/checkpoint/witnessed", params={"index": "x"}).status_code == 400
    store = SqliteLedgerStore(tmp_path / "store.sqlite")
    try:
        assert store.first_witnessed(0) is None
        store.record_witnessed(10, b"ten")
        store.record_witnessed(10, b"ten again")
        store.record_witnessed(20, b"twenty")
        assert store.first_witnessed(0) == b"ten"
        assert store.first_witnessed(9) == b"ten"
        assert store.first_witnessed(10) == b"twenty"
        assert store.first_witnessed(20) is None
    finally:
        store.close()
