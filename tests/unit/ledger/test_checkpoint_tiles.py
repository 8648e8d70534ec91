"""C2SP tlog-checkpoint and tlog-tiles."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.errors import DecodeError, LedgerError, MisuseError
from privproc.ledger.checkpoint import Checkpoint, open_checkpoint, sign_checkpoint
from privproc.ledger.cosignature import Cosigner
from privproc.ledger.merkle import MemoryTree, consistency_proof, inclusion_proof
from privproc.ledger.note import Ed25519Signer
from privproc.ledger.tiles import (
    ENTRIES_LEVEL,
    TileHashes,
    TileRef,
    decode_entry_bundle,
    encode_entry_bundle,
    encode_index,
    parse_tile_path,
    tiles_for_size,
)
from tests._vectors import load_json

SPEC = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"


def test_parse_spec_example() -> None:
    cp = Checkpoint.parse(SPEC)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    assert cp.text() == SPEC
    ext = Checkpoint.parse(SPEC + "ext line\n")
    assert ext.extensions == ("ext line",)


@pytest.mark.parametrize(
    "text",
    [
        "origin\n12\n",
        "origin\n012\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n-1\n" + base64.b64encode(bytes(32)).decode() + "\n",
        "origin\n1\n" + base64.b64encode(bytes(31)).decode() + "\n",
        "origin\n1\n" + base64.b64encode(bytes(32)).decode(),
        "origin\n1\n" + base64.b64encode(bytes(32)).decode() + "\n\n",
        "\n1\n" + base64.b64encode(bytes(32)).decode() + "\n",
    ],
)
def test_bad_checkpoints(text: str) -> None:
    with pytest.raises(DecodeError):
        Checkpoint.parse(text)


def test_signed_checkpoint_with_cosignatures() -> None:
    log = Ed25519Signer("log.example", Ed25519PrivateKey.generate())
    w = Cosigner("w.example", Ed25519PrivateKey.generate())
    cp = Checkpoint("log.example", 5, bytes(32))
    note = sign_checkpoint(cp, log)
    note = note.with_signatures(w.cosign(note.text, 1000))
    opened = open_checkpoint(note.encode(), log.verifier(), [w.verifier()])
    assert opened.checkpoint == cp
    assert [c.timestamp for c in opened.cosignatures] == [1000]
    other = Ed25519Signer("log.example", Ed25519PrivateKey.generate())
    with pytest.raises(LedgerError) as e:
        open_checkpoint(note.encode(), other.verifier())
    assert e.value.check == "checkpoint.log_signature"
    foreign = sign_checkpoint(Checkpoint("evil.example", 5, bytes(32)), log)
    with pytest.raises(LedgerError) as e:
        open_checkpoint(foreign.encode(), log.verifier())
    assert e.value.check == "checkpoint.origin"


def test_tile_paths_spec_examples() -> None:
    v = load_json("ledger", "signed_note.json")["tlog_tiles"]
    for n, path in v["index_paths"]:
        assert encode_index(n) == path
        assert parse_tile_path(f"tile/0/{path}") == TileRef(0, n)
    assert TileRef(2, 1234067, 17).path() == "tile/2/x001/x234/067.p/17"
    assert parse_tile_path("tile/entries/x001/x234/067.p/17") == TileRef(ENTRIES_LEVEL, 1234067, 17)
    assert TileRef(ENTRIES_LEVEL, 5).path() == "tile/entries/005"
    t = tiles_for_size(70000)
    assert sum(1 for r in t if r.level == 0 and not r.partial) == v["size_70000"]["full_level0"]
    assert [r.width for r in t if r.level == 0 and r.partial] == [v["size_70000"]["partial_level0"]]
    assert sum(1 for r in t if r.level == 1 and not r.partial) == v["size_70000"]["full_level1"]
    assert [r.width for r in t if r.level == 1 and r.partial] == [v["size_70000"]["partial_level1"]]
    assert [r.width for r in t if r.level == 2] == [v["size_70000"]["partial_level2"]]
    assert tiles_for_size(256) == [TileRef(0, 0), TileRef(1, 0, 1)]
    assert tiles_for_size(0) == []


@pytest.mark.parametrize(
    "path",
    [
        "tile/64/000",
        "tile/01/000",
        "tile/0/00",
        "tile/0/1000",
        "tile/0/001/002",
        "tile/0/x000/001",
        "tile/0/000.p/0",
        "tile/0/000.p/256",
        "tile/0/000.p/07",
        "tiles/0/000",
        "tile/x/000",
        "tile/0",
    ],
)
def test_bad_tile_paths(path: str) -> None:
    with pytest.raises(DecodeError):
        parse_tile_path(path)


def test_entry_bundles() -> None:
    entries = [b"", b"a", b"x" * 300]
    data = encode_entry_bundle(entries)
    assert data[:2] == b"\x00\x00"
    assert decode_entry_bundle(data, 3) == entries
    with pytest.raises(DecodeError):
        decode_entry_bundle(data[:-1])
    with pytest.raises(DecodeError):
        decode_entry_bundle(data, 2)
    with pytest.raises(MisuseError):
        encode_entry_bundle([bytes(70000)])


def test_proofs_from_tiles_equal_proofs_from_memory() -> None:
    t = MemoryTree()
    n = 256 * 3 + 70
    for i in range(n):
        t.append(i.to_bytes(4, "big"))
    tiles = {}
    for ref in tiles_for_size(n):
        lvl = ref.level * 8
        tiles[(ref.level, ref.index)] = b"".join(
            t.level_hashes(lvl, ref.index * 256, ref.index * 256 + ref.width)
        )
    src = TileHashes(tiles)
    for i, size in [(0, n), (700, n), (n - 1, n), (255, 256), (300, 513)]:
        assert inclusion_proof(src, i, size) == inclusion_proof(t, i, size)
    for m in (1, 255, 256, 257, 600):
        assert consistency_proof(src, m, n) == consistency_proof(t, m, n)
