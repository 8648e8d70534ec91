"""The device-side verifier: accepts a witnessed, consistent, fresh inclusion; refuses
forks, rollbacks, missing cosignatures, unknown keys and stale proofs by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.errors import DecodeError, ForkError, LedgerError, MisuseError, ProofError, StaleError
from privproc.ledger.checkpoint import Checkpoint, sign_checkpoint
from privproc.ledger.cosignature import Cosigner
from privproc.ledger.merkle import MemoryTree, consistency_proof, inclusion_proof
from privproc.ledger.note import Ed25519Signer, Ed25519Verifier
from privproc.ledger.records import KeyConfigRecord, RevocationRecord, encode_record, sign_record
from privproc.ledger.seen import SeenCheckpointStore
from privproc.ledger.verifier import (
    InclusionBundle,
    TrustPolicy,
    check_consistency,
    verify_inclusion_bundle,
    verify_not_revoked,
    verify_record,
)

ORIGIN = "ledger.example/log"
NOW = 1_800_000_000
LOG = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
W = [Cosigner(f"w{i}.example", Ed25519PrivateKey.generate()) for i in range(3)]
POLICY = TrustPolicy(LOG.verifier(), tuple(w.verifier() for w in W), quorum=2, max_age=3600)
PUB_KEY = Ed25519PrivateKey.generate()
PUB = Ed25519Verifier("publisher.example", PUB_KEY.public_key())


def _tree(n: int, fork_at: int | None = None) -> MemoryTree:
    t = MemoryTree()
    for i in range(n):
        t.append(b"evil" if i == fork_at else i.to_bytes(4, "big"))
    return t


def _note(
    t: MemoryTree,
    size: int,
    cosigners: list[Cosigner],
    ts: int = NOW - 10,
    log: Ed25519Signer = LOG,
) -> bytes:
    note = sign_checkpoint(Checkpoint(ORIGIN, size, t.root(size)), log)
    return note.with_signatures(*(c.cosign(note.text, ts) for c in cosigners)).encode()


def _bundle(t: MemoryTree, size: int, index: int, **kw) -> InclusionBundle:  # type: ignore[no-untyped-def]
    entry = index.to_bytes(4, "big")
    return InclusionBundle(
        _note(t, size, kw.pop("cosigners", W[:2]), **kw),
        index,
        entry,
        tuple(inclusion_proof(t, index, size)),
    )


def test_accepts_and_advances() -> None:
    t = _tree(20)
    seen = Checkpoint(ORIGIN, 7, t.root(7))
    res = verify_inclusion_bundle(
        _bundle(t, 20, 13), POLICY, now=NOW, seen=seen, consistency=consistency_proof(t, 7, 20)
    )
    assert res.newest.size == 20
    assert res.checkpoint.size == 20
    first = verify_inclusion_bundle(_bundle(t, 20, 3), POLICY, now=NOW, seen=None)
    assert first.newest.size == 20
    same = verify_inclusion_bundle(_bundle(t, 20, 3), POLICY, now=NOW, seen=res.newest)
    assert same.newest == res.newest


def test_bundle_json_roundtrip() -> None:
    b = _bundle(_tree(5), 5, 2)
    assert InclusionBundle.decode(b.encode()) == b
    with pytest.raises(DecodeError):
        InclusionBundle.decode(b"{}")
    with pytest.raises(DecodeError):
        InclusionBundle.decode(b'{"checkpoint":"\\ud800","entry":"","index":0,"proof":[]}')


def test_fork_refused() -> None:
    honest, forked = _tree(20), _tree(20, fork_at=3)
    seen = Checkpoint(ORIGIN, 20, honest.root(20))
    with pytest.raises(ForkError) as e:
        verify_inclusion_bundle(_bundle(forked, 20, 13), POLICY, now=NOW, seen=seen)
    assert e.value.check == "ledger.fork"
    seen10 = Checkpoint(ORIGIN, 10, honest.root(10))
    with pytest.raises(ForkError) as e:
        verify_inclusion_bundle(
            _bundle(forked, 20, 13),
            POLICY,
            now=NOW,
            seen=seen10,
            consistency=consistency_proof(forked, 10, 20),
        )
    assert e.value.check == "ledger.consistency"


def test_rollback_refused() -> None:
    t = _tree(20)
    seen = Checkpoint(ORIGIN, 20, t.root(20))
    with pytest.raises(ForkError) as e:
        verify_inclusion_bundle(_bundle(t, 15, 13), POLICY, now=NOW, seen=seen)
    assert e.value.check == "ledger.rollback"


def test_missing_witness_refused() -> None:
    t = _tree(8)
    with pytest.raises(LedgerError) as e:
        verify_inclusion_bundle(_bundle(t, 8, 1, cosigners=W[:1]), POLICY, now=NOW, seen=None)
    assert e.value.check == "ledger.cosignatures.quorum"
    assert "w1.example" in str(e.value)
    stranger = Cosigner("w1.example", Ed25519PrivateKey.generate())  # same name, other key: ignored
    with pytest.raises(LedgerError) as e:
        verify_inclusion_bundle(
            _bundle(t, 8, 1, cosigners=[W[0], stranger]), POLICY, now=NOW, seen=None
        )
    assert e.value.check == "ledger.cosignatures.quorum"


def test_unknown_log_key_refused() -> None:
    t = _tree(8)
    impostor = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
    with pytest.raises(LedgerError) as e:
        verify_inclusion_bundle(_bundle(t, 8, 1, log=impostor), POLICY, now=NOW, seen=None)
    assert e.value.check == "checkpoint.log_signature"


def test_stale_refused() -> None:
    t = _tree(8)
    with pytest.raises(StaleError) as e:
        verify_inclusion_bundle(_bundle(t, 8, 1, ts=NOW - 7200), POLICY, now=NOW, seen=None)
    assert e.value.check == "ledger.cosignatures.fresh"
    with pytest.raises(StaleError):
        verify_inclusion_bundle(_bundle(t, 8, 1, ts=NOW + 3600), POLICY, now=NOW, seen=None)


def test_bad_inclusion_refused() -> None:
    t = _tree(8)
    b = _bundle(t, 8, 1)
    wrong = InclusionBundle(b.checkpoint, 2, b.entry, b.proof)
    with pytest.raises(ProofError):
        verify_inclusion_bundle(wrong, POLICY, now=NOW, seen=None)


def test_record_verified() -> None:
    rec = KeyConfigRecord(b"\x01" * 41, NOW - 100, NOW + 100)
    entry = encode_record(sign_record(rec, "publisher.example", PUB_KEY))
    t = MemoryTree()
    t.append(b"first")
    t.append(entry)
    note = _note(t, 2, W[1:])
    bundle = InclusionBundle(note, 1, entry, tuple(inclusion_proof(t, 1, 2)))
    got, res = verify_record(bundle, POLICY, PUB, now=NOW, seen=None)
    assert got == rec
    assert res.index == 1
    bad = InclusionBundle(note, 0, b"first", tuple(inclusion_proof(t, 0, 2)))
    with pytest.raises(LedgerError) as e:
        verify_record(bad, POLICY, PUB, now=NOW, seen=None)
    assert e.value.check == "record.decode"


def test_policy_checks() -> None:
    with pytest.raises(MisuseError):
        TrustPolicy(LOG.verifier(), (W[0].verifier(),), quorum=2, max_age=10)
    with pytest.raises(MisuseError):
        TrustPolicy(LOG.verifier(), (W[0].verifier(), W[0].verifier()), quorum=1, max_age=10)


def test_other_origin_is_a_fork() -> None:
    t = _tree(4)
    with pytest.raises(ForkError):
        check_consistency(Checkpoint("other", 1, t.root(1)), Checkpoint(ORIGIN, 4, t.root(4)), [])


def test_seen_store(tmp_path: Path) -> None:
    store = SeenCheckpointStore(tmp_path / "d" / "seen")
    assert store.load() is None
    cp = Checkpoint(ORIGIN, 3, bytes(32))
    store.save(cp)
    assert store.load() == cp
    store.save(Checkpoint(ORIGIN, 4, bytes(32)))
    assert store.load() == Checkpoint(ORIGIN, 4, bytes(32))


def test_not_revoked_and_revoked() -> None:
    measurement = b"\x05" * 48
    release = encode_record(
        sign_record(KeyConfigRecord(b"\x01", 1, 2), "publisher.example", PUB_KEY)
    )
    entries = [b"raw", release]
    t = MemoryTree()
    for entry in entries:
        t.append(entry)
    cp = Checkpoint(ORIGIN, 2, t.root())
    assert verify_not_revoked(entries, cp, PUB, kind="measurement", target=measurement) == cp
    # A revocation by someone else revokes nothing.
    stranger = Ed25519PrivateKey.generate()
    fake = encode_record(
        sign_record(
            RevocationRecord("measurement", measurement, "x", 5), "publisher.example", stranger
        )
    )
    real = encode_record(
        sign_record(
            RevocationRecord("measurement", measurement, "CVE", 6), "publisher.example", PUB_KEY
        )
    )
    for entry in (fake,):
        t.append(entry)
    entries.append(fake)
    verify_not_revoked(
        entries, Checkpoint(ORIGIN, 3, t.root()), PUB, kind="measurement", target=measurement
    )
    t.append(real)
    entries.append(real)
    cp4 = Checkpoint(ORIGIN, 4, t.root())
    with pytest.raises(LedgerError) as e:
        verify_not_revoked(entries, cp4, PUB, kind="measurement", target=measurement)
    assert e.value.check == "ledger.revoked"
    verify_not_revoked(entries, cp4, PUB, kind="key_config", target=measurement)
    # Hiding the revocation changes the root: refused.
    with pytest.raises(ProofError) as e:
        verify_not_revoked(
            [*entries[:3], b"other"], cp4, PUB, kind="measurement", target=measurement
        )
    assert e.value.check == "ledger.entries.root"
    with pytest.raises(ProofError) as e:
        verify_not_revoked(entries[:3], cp4, PUB, kind="measurement", target=measurement)
    assert e.value.check == "ledger.entries.count"


def test_seen_store_write_failures_are_store_errors(tmp_path: Path) -> None:
    from privproc.errors import StoreError

    (tmp_path / "file").write_text("not a folder")
    store = SeenCheckpointStore(tmp_path / "file" / "sub" / "seen")
    with pytest.raises(StoreError, match="cannot write seen checkpoint"):
        store.save(Checkpoint("example.com/log", 1, b"\0" * 32))
