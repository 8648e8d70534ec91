"""C2SP signed-note and tlog-cosignature, against published vectors."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.errors import DecodeError, LedgerError, UnsupportedError
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.cosignature import (
    CosignatureVerifier,
    Cosigner,
    cosigned_message,
    timestamp_of,
    verifier_from_vkey,
)
from privproc.ledger.note import (
    ALG_COSIGNATURE_V1,
    Ed25519Signer,
    Note,
    key_id,
    open_note,
    parse_signer_key,
    parse_vkey,
    public_key_bytes,
)
from privproc.ledger.tlog_witness import AddCheckpointRequest
from tests._vectors import load_json

V = load_json("ledger", "signed_note.json")


def test_go_example_signs_byte_for_byte() -> None:
    ex = V["go_sumdb_note_example"]
    signer = parse_signer_key(ex["skey"])
    assert signer.verifier().vkey() == ex["vkey"]
    assert signer.signer_key() == ex["skey"]
    note = Note(ex["text"], (signer.sign(ex["text"]),))
    assert note.encode() == ex["signed"].encode()


def test_go_example_opens() -> None:
    ex = V["go_sumdb_note_example"]
    verifier = verifier_from_vkey(ex["vkey"])
    note = Note.decode(ex["signed"].encode())
    assert note.text == ex["text"]
    [v] = open_note(note, [verifier])
    assert v.signature.name == "PeterNeumann"
    tampered = Note.decode(ex["signed"].replace("cryptography", "cryptographY").encode())
    with pytest.raises(LedgerError) as e:
        open_note(tampered, [verifier])
    assert e.value.check == "note.signature"


@pytest.mark.parametrize("case", V["valid_vkeys"], ids=lambda c: c["name"])
def test_valid_vkeys(case: dict[str, object]) -> None:
    name, alg, public = parse_vkey(str(case["vkey"]))
    assert (name, alg, len(public)) == (case["name"], case["type"], 32)
    assert verifier_from_vkey(str(case["vkey"])).vkey() == case["vkey"]


@pytest.mark.parametrize("vkey", V["invalid_vkeys"])
def test_invalid_vkeys(vkey: str) -> None:
    with pytest.raises((DecodeError, UnsupportedError)):
        verifier_from_vkey(vkey)


def test_cosignature_timestamp_vector() -> None:
    c = V["cosignature_timestamp"]
    raw = base64.b64decode(c["signature"])
    assert timestamp_of(raw[4:]) == c["timestamp"]


def test_cosignature_message_is_the_spec_one() -> None:
    # tlog-cosignature §Ed25519 signed message, its example.
    text = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    assert cosigned_message(text, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_cosign_roundtrip_and_key_id() -> None:
    key = Ed25519PrivateKey.generate()
    w = Cosigner("witness.example/w1", key)
    pub = key.public_key()
    assert w.key_id == key_id("witness.example/w1", ALG_COSIGNATURE_V1, public_key_bytes(key))
    text = "log.example\n3\n" + base64.b64encode(bytes(32)).decode() + "\n"
    sig = w.cosign(text, 1700000000)
    assert CosignatureVerifier("witness.example/w1", pub).verify(text, sig.signature) == 1700000000
    # The same key as a plain Ed25519 note key has another key id: never confused.
    assert Ed25519Signer("witness.example/w1", key).key_id != w.key_id
    forged = sig.signature[:7] + bytes([sig.signature[7] ^ 1]) + sig.signature[8:]
    with pytest.raises(LedgerError) as e:
        w.verifier().verify(text, forged)
    assert e.value.check == "cosignature.signature"


def test_unknown_keys_are_ignored_known_bad_rejects() -> None:
    a = Ed25519Signer("a.example", Ed25519PrivateKey.generate())
    b = Ed25519Signer("b.example", Ed25519PrivateKey.generate())
    text = "hello\n"
    note = Note(text, (b.sign(text), a.sign(text)))
    [v] = open_note(Note.decode(note.encode()), [a.verifier()])
    assert v.signature.name == "a.example"
    with pytest.raises(LedgerError) as e:
        open_note(note, [Ed25519Signer("c.example", Ed25519PrivateKey.generate()).verifier()])
    assert e.value.check == "note.unverified"


@pytest.mark.parametrize(
    "data",
    [
        b"no blank line\n\xe2\x80\x94 a AAAAAAA=\n",
        b"text\n\n",
        b"text\n\n\xe2\x80\x94 a b c\n",
        b"text\n\n- a AAAAAAAA\n",
        b"text\n\n\xe2\x80\x94 a AAAA\n",
        b"text\n\n\xe2\x80\x94 a AAAAAAAA",
        b"te\x01xt\n\n\xe2\x80\x94 a AAAAAAAA\n",
        b"\xff\n\n\xe2\x80\x94 a AAAAAAAA\n",
        b"text\n\n\xe2\x80\x94 a+b AAAAAAAA\n",
        b"text\n\n\xe2\x80\x94 a AAAAAAA\n",
    ],
)
def test_malformed_notes(data: bytes) -> None:
    with pytest.raises(DecodeError):
        Note.decode(data)


SPEC = V["spec_examples"]


def test_spec_signed_note_example_parses() -> None:
    note = Note.decode(SPEC["signed_note_format"].encode())
    assert note.text == (
        "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n"
        "\ned è subito sera.\n"
    )
    [sig] = note.signatures
    assert sig.name == "quasimodo.example/salvatore"
    assert len(sig.signature) == 64
    assert note.encode() == SPEC["signed_note_format"].encode()


def test_spec_cosigned_checkpoint_example() -> None:
    note = Note.decode(SPEC["cosigned_checkpoint"].encode())
    cp = Checkpoint.parse(note.text)
    assert (cp.origin, cp.size) == ("example.com/behind-the-sofa", 20852163)
    log_sig, cosig = note.signatures
    assert len(log_sig.signature) == 64
    assert cosig.name == "witness.example.com/w1"
    assert timestamp_of(cosig.signature) == SPEC["cosignature_time"]
    assert note.encode() == SPEC["cosigned_checkpoint"].encode()


def test_spec_add_checkpoint_example() -> None:
    req = AddCheckpointRequest.decode(SPEC["add_checkpoint_request"].encode())
    assert req.old_size == 20852014
    assert len(req.proof) == 4
    assert req.encode() == SPEC["add_checkpoint_request"].encode()
    assert Checkpoint.parse(Note.decode(req.checkpoint).text).size == 20852163
    cp_text = Note.decode(req.checkpoint).text
    answer = Note.decode((cp_text + "\n" + SPEC["add_checkpoint_response"]).encode())
    assert [s.name for s in answer.signatures] == ["witness.example/w1"] * 2 + [
        "witness.example/w2"
    ]
    assert all(len(s.signature) == 72 for s in answer.signatures)


@pytest.mark.parametrize("signer_type", [Ed25519Signer, Cosigner])
def test_signers_and_verifiers_name_the_same_vkey(
    signer_type: type[Ed25519Signer | Cosigner],
) -> None:
    """Types 0x01 and 0x04 share the signed-note key id and vkey (C2SP signed-note)."""
    key = Ed25519PrivateKey.generate()
    signer = signer_type("witness.example/w1", key)
    verifier = signer.verifier()
    public = public_key_bytes(key)
    assert signer.vkey() == verifier.vkey()
    assert parse_vkey(verifier.vkey()) == ("witness.example/w1", signer_type.ALG, public)
    assert signer.key_id == verifier.key_id == key_id("witness.example/w1", signer_type.ALG, public)
    assert verifier_from_vkey(signer.vkey()).key_id == signer.key_id
