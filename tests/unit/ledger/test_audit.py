"""The offline audit: a good log passes; each kind of tampering is named."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.errors import ForkError, LedgerError
from privproc.ledger.audit import audit_log
from privproc.ledger.checkpoint import Checkpoint, sign_checkpoint
from privproc.ledger.cosignature import Cosigner
from privproc.ledger.merkle import MemoryTree
from privproc.ledger.note import Ed25519Signer, Ed25519Verifier
from privproc.ledger.records import KeyConfigRecord, RevocationRecord, encode_record, sign_record
from privproc.ledger.tiles import ENTRIES_LEVEL, TileRef, encode_entry_bundle, tiles_for_size

ORIGIN = "audit.example/log"
LOG = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
W = Cosigner("w.example", Ed25519PrivateKey.generate())
PUB = Ed25519PrivateKey.generate()
PUBV = Ed25519Verifier("pub.example", PUB.public_key())


def _log(entries: list[bytes]) -> tuple[bytes, dict[TileRef, bytes], MemoryTree]:
    t = MemoryTree()
    for e in entries:
        t.append(e)
    tiles: dict[TileRef, bytes] = {}
    for ref in tiles_for_size(len(entries)):
        s = ref.index * 256
        tiles[ref] = b"".join(t.level_hashes(ref.level * 8, s, s + ref.width))
        if ref.level == 0:
            tiles[TileRef(ENTRIES_LEVEL, ref.index, ref.width)] = encode_entry_bundle(
                entries[s : s + ref.width]
            )
    note = sign_checkpoint(Checkpoint(ORIGIN, len(entries), t.root()), LOG)
    note = note.with_signatures(W.cosign(note.text, 1234))
    return note.encode(), tiles, t


def _entries(n: int) -> list[bytes]:
    rec = encode_record(sign_record(KeyConfigRecord(b"k", 1, 2), "pub.example", PUB))
    rev = encode_record(
        sign_record(RevocationRecord("measurement", b"\x07" * 32, "bad", 3), "pub.example", PUB)
    )
    return [rec if i % 100 == 0 else rev if i == 7 else b"e%d" % i for i in range(n)]


def test_good_log_passes() -> None:
    entries = _entries(256 * 2 + 17)
    note, tiles, t = _log(entries)
    r = audit_log(note, LOG.verifier(), tiles, witnesses=[W.verifier()], publisher=PUBV)
    assert r.size == len(entries)
    assert r.cosigners == (("w.example", 1234),)
    assert dict(r.records) == {"KeyConfigRecord": 6, "RevocationRecord": 1}
    assert r.signatures_checked == 7
    assert r.revocations == ((7, "measurement", "07" * 32),)
    assert r.as_dict()["revocations"] == [{"index": 7, "kind": "measurement", "target": "07" * 32}]
    prev = Checkpoint(ORIGIN, 300, t.root(300))
    assert audit_log(note, LOG.verifier(), tiles, previous=prev).consistent_with == 300


def test_tampering_is_named() -> None:
    entries = _entries(256 + 40)
    note, tiles, _t = _log(entries)
    bad = dict(tiles)
    bad[TileRef(ENTRIES_LEVEL, 1, 40)] = encode_entry_bundle([*entries[256:295], b"changed"])
    with pytest.raises(LedgerError) as e:
        audit_log(note, LOG.verifier(), bad)
    assert e.value.check == "audit.tile.level0"
    bad = dict(tiles)
    bad[TileRef(1, 0, 1)] = bytes(32)
    with pytest.raises(LedgerError) as e:
        audit_log(note, LOG.verifier(), bad)
    assert e.value.check == "audit.tile.level"
    bad = dict(tiles)
    del bad[TileRef(0, 1, 40)]
    with pytest.raises(LedgerError) as e:
        audit_log(note, LOG.verifier(), bad)
    assert e.value.check == "audit.missing"
    wrong_root = sign_checkpoint(Checkpoint(ORIGIN, len(entries), bytes(32)), LOG).encode()
    with pytest.raises(LedgerError) as e:
        audit_log(wrong_root, LOG.verifier(), tiles)
    assert e.value.check == "audit.root"
    with pytest.raises(LedgerError) as e:
        audit_log(
            note,
            LOG.verifier(),
            tiles,
            publisher=Ed25519Verifier("pub.example", Ed25519PrivateKey.generate().public_key()),
        )
    assert e.value.check == "record.publisher"


def test_fork_and_rollback_against_previous() -> None:
    note, tiles, _ = _log(_entries(50))
    other = MemoryTree()
    for i in range(30):
        other.append(b"x%d" % i)
    with pytest.raises(ForkError) as e:
        audit_log(note, LOG.verifier(), tiles, previous=Checkpoint(ORIGIN, 30, other.root()))
    assert e.value.check == "audit.consistency"
    with pytest.raises(ForkError) as e:
        audit_log(note, LOG.verifier(), tiles, previous=Checkpoint(ORIGIN, 60, other.root()))
    assert e.value.check == "audit.rollback"


def _configs(*windows: tuple[int, int]) -> list[bytes]:
    return [
        encode_record(sign_record(KeyConfigRecord(b"k%d" % i, nb, na), "pub.example", PUB))
        for i, (nb, na) in enumerate(windows)
    ]


def test_audit_flags_key_rule_breaks() -> None:
    """Issue 12 item 1: ``privproc audit`` flags a log that breaks the key-consistency rule."""
    entries = _configs((100, 300), (50, 300))
    note, tiles, _ = _log(entries)
    with pytest.raises(LedgerError) as info:
        audit_log(note, LOG.verifier(), tiles, publisher=PUBV)
    assert info.value.check == "keyconfig.sequence"
    # Without the publisher key the records are not the publisher's word: not checked.
    assert audit_log(note, LOG.verifier(), tiles).key_rule.startswith("not checked")


def test_audit_checks_announcements() -> None:
    entries = [b"x", *_configs((0, 200), (100, 300))]

    def announced(ts: int) -> dict[int, bytes]:
        prefix = entries[:3]
        tree = MemoryTree()
        for e in prefix:
            tree.append(e)
        n = sign_checkpoint(Checkpoint(ORIGIN, 3, tree.root()), LOG)
        return {2: n.with_signatures(W.cosign(n.text, ts)).encode()}

    note, tiles, _ = _log(entries)

    def run(notes: dict[int, bytes]) -> str:
        report = audit_log(
            note,
            LOG.verifier(),
            tiles,
            witnesses=[W.verifier()],
            publisher=PUBV,
            announcements=notes.get,
            announce_delay=50,
        )
        assert report.key_configs == 2
        return report.key_rule

    assert "announced 50s ahead" in run(announced(50))
    for notes in (announced(51), {}):
        with pytest.raises(LedgerError) as info:
            run(notes)
        assert info.value.check == "keyconfig.announce"
    report = audit_log(note, LOG.verifier(), tiles, publisher=PUBV)
    assert "announcements not checked" in report.key_rule
