"""RFC 9474 Appendix A: every RSABSSA-SHA384 variant, step by step."""

from __future__ import annotations

from typing import Any

import pytest

from privproc.errors import TokenError
from privproc.tokens import blind_rsa
from privproc.tokens.blind_rsa import PrivateKey, Variant
from tests._vectors import load_json

DATA = load_json("tokens", "rfc9474.json")
VECTORS: list[dict[str, Any]] = DATA["vectors"]


def _key() -> PrivateKey:
    k = DATA["key"]
    sk = PrivateKey.from_numbers(int(k["p"], 16), int(k["q"], 16), int(k["e"], 16))
    assert sk.public_key.n == int(k["n"], 16)
    assert sk.d == int(k["d"], 16)
    return sk


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector(v: dict[str, Any]) -> None:
    sk = _key()
    pk = sk.public_key
    variant = Variant.from_name(v["name"])
    msg = bytes.fromhex(DATA["msg"])
    prefix = bytes.fromhex(v["msg_prefix"]) or None
    prepared = blind_rsa.prepare(msg, variant, prefix=prefix)
    assert prepared == bytes.fromhex(v["msg_prefix"]) + msg

    salt = bytes.fromhex(v["salt"])
    assert len(salt) == variant.salt_len
    if "encoded_msg" in v:
        encoded = blind_rsa.emsa_pss_encode(prepared, pk.n.bit_length() - 1, salt)
        assert encoded.hex() == v["encoded_msg"]

    inv = int(v["inv"], 16)
    r = pow(inv, -1, pk.n)
    blinded, got_inv = blind_rsa.blind(pk, prepared, variant, salt=salt, r=r)
    assert got_inv == inv
    assert blinded.hex() == v["blinded_msg"]

    blind_sig = blind_rsa.blind_sign(sk, blinded)
    assert blind_sig.hex() == v["blind_sig"]

    sig = blind_rsa.finalize(pk, prepared, blind_sig, inv, variant)
    assert sig.hex() == v["sig"]
    blind_rsa.verify(pk, prepared, sig, variant)


@pytest.mark.parametrize("v", VECTORS, ids=[v["name"] for v in VECTORS])
def test_vector_signature_fails_for_other_message(v: dict[str, Any]) -> None:
    pk = _key().public_key
    variant = Variant.from_name(v["name"])
    prepared = bytes.fromhex(v["msg_prefix"] + DATA["msg"])
    sig = bytes.fromhex(v["sig"])
    with pytest.raises(TokenError) as info:
        blind_rsa.verify(pk, prepared + b"x", sig, variant)
    assert info.value.check == "blind_rsa.signature"
