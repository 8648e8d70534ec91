"""Records: canonical encoding, strict decoding, publisher signatures."""

from __future__ import annotations

import contextlib
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from privproc.errors import DecodeError, LedgerError, MisuseError
from privproc.ledger.note import Ed25519Signer, Ed25519Verifier, parse_signer_key
from privproc.ledger.records import (
    KeyConfigRecord,
    ReleaseRecord,
    RevocationRecord,
    decode_record,
    encode_record,
    sign_record,
)

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
PUB = Ed25519Verifier("publisher.example", KEY.public_key())

RELEASE = ReleaseRecord(
    component="enclave",
    version="1.2.3",
    measurements=(("sev-snp", b"\x01" * 48), ("simulated", b"\x02" * 32)),
    source_revision="0123456789abcdef0123456789abcdef01234567",
    recipe_digest=b"\x03" * 32,
    model_digest=b"\x04" * 32,
    issued_at=1_790_000_000,
)
KEYCFG = KeyConfigRecord(b"\x01\x00\x20" + bytes(32), 1_790_000_000, 1_790_086_400)
REVOKE = RevocationRecord("measurement", b"\x01" * 48, "CVE-2026-0001", 1_790_000_100)


@pytest.mark.parametrize("record", [RELEASE, KEYCFG, REVOKE], ids=["release", "keycfg", "revoke"])
def test_roundtrip_and_verify(record: ReleaseRecord | KeyConfigRecord | RevocationRecord) -> None:
    signed = sign_record(record, "publisher.example", KEY)
    data = encode_record(signed)
    assert b" " not in data.replace(b"CVE-2026-0001", b"")  # no whitespace
    back = decode_record(data)
    assert back == signed
    assert back.verify(PUB) == record
    assert encode_record(back) == data


def test_canonical_form_is_fixed() -> None:
    data = encode_record(sign_record(KEYCFG, "publisher.example", KEY))
    obj = json.loads(data)
    assert list(obj) == sorted(obj)
    assert list(obj["record"]) == sorted(obj["record"])
    assert obj["record"]["v"] == 1
    assert obj["record"]["type"] == "key_config"


def _mutate(data: bytes, fn) -> bytes:  # type: ignore[no-untyped-def]
    obj = json.loads(data)
    fn(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


@pytest.mark.parametrize(
    "mutation",
    [
        lambda o: o["record"].update(extra=1),
        lambda o: o["record"].pop("issued_at"),
        lambda o: o["record"].update(v=2),
        lambda o: o["record"].update(v=True),
        lambda o: o["record"].update(type="other"),
        lambda o: o["record"].update(issued_at="1"),
        lambda o: o["record"].update(recipe_digest="AB" * 32),
        lambda o: o["record"].update(recipe_digest="ab" * 31),
        lambda o: o["record"]["measurements"].update({"tdx": "00"}),
        lambda o: o.update(signature="!!"),
        lambda o: o.update(key_id="abc"),
        lambda o: o.pop("publisher"),
    ],
)
def test_strict_decoding(mutation) -> None:  # type: ignore[no-untyped-def]
    data = encode_record(sign_record(RELEASE, "publisher.example", KEY))
    with pytest.raises(DecodeError):
        decode_record(_mutate(data, mutation))


def test_non_canonical_bytes_refused() -> None:
    data = encode_record(sign_record(KEYCFG, "publisher.example", KEY))
    obj = json.loads(data)
    for variant in (
        json.dumps(obj).encode(),  # whitespace
        json.dumps(obj, separators=(",", ":"))
        .encode()[::-1][::-1]
        .replace(b'{"key_id"', b'{"key_id" '),
        data.replace(b'"not_after":1790086400', b'"not_after":1790086400.0'),
        data[:-1] + b',"key_id":"00000000"}',
    ):
        with pytest.raises(DecodeError):
            decode_record(variant)


def test_tampered_or_foreign_signature() -> None:
    signed = sign_record(RELEASE, "publisher.example", KEY)
    other = sign_record(KEYCFG, "publisher.example", KEY)
    forged = type(signed)(signed.record, signed.publisher, signed.key_id, other.signature)
    with pytest.raises(LedgerError) as e:
        forged.verify(PUB)
    assert e.value.check == "record.signature"
    stranger = Ed25519Verifier("publisher.example", Ed25519PrivateKey.generate().public_key())
    with pytest.raises(LedgerError) as e:
        signed.verify(stranger)
    assert e.value.check == "record.publisher"


def test_construction_checks() -> None:
    with pytest.raises(MisuseError):
        KeyConfigRecord(b"x", 10, 10)
    with pytest.raises(MisuseError):
        RevocationRecord("node", b"\x00" * 32, "r", 1)
    with pytest.raises(MisuseError):
        ReleaseRecord(
            "c", "v", (("b", b"\x00" * 32), ("a", b"\x00" * 32)), "r", bytes(32), bytes(32), 1
        )


@given(st.binary(max_size=200))
def test_decoder_raises_only_decode_error(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        decode_record(data)


def test_signed_record_roundtrip_under_a_signer_key() -> None:
    signer = Ed25519Signer("publisher.example", Ed25519PrivateKey.generate())
    again = parse_signer_key(signer.signer_key())
    signed = sign_record(RELEASE, again.name, again.private_key)
    assert decode_record(encode_record(signed)).verify(signer.verifier()) == RELEASE
    with pytest.raises(DecodeError):
        parse_signer_key("PRIVATE+KEY+x+00000000+AAAA")
