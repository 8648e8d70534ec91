"""RFC 9578 Appendix A.2: token type 0x0002 issuance, reproduced byte for byte."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from privproc.tokens import issuance
from privproc.tokens.blind_rsa import PrivateKey
from privproc.tokens.protocol import (
    Token,
    TokenChallenge,
    TokenKey,
    TokenRequest,
    TokenResponse,
)
from tests._vectors import load_json

DATA = load_json("tokens", "rfc9578_type2.json")
VECTORS: list[dict[str, Any]] = DATA["vectors"]


def _issuer() -> issuance.IssuerKeyPair:
    key = serialization.load_pem_private_key(bytes.fromhex(DATA["skS"]), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return issuance.IssuerKeyPair.from_private_key(PrivateKey.from_cryptography(key))


def test_pks_is_our_spki_encoding() -> None:
    pair = _issuer()
    assert pair.token_key.spki.hex() == DATA["pkS"]
    decoded = TokenKey.decode(bytes.fromhex(DATA["pkS"]))
    assert decoded.public_key == pair.private_key.public_key


@pytest.mark.parametrize("i", range(len(VECTORS)))
def test_vector(i: int) -> None:
    v = VECTORS[i]
    pair = _issuer()
    token_key = TokenKey.decode(bytes.fromhex(DATA["pkS"]))
    challenge = TokenChallenge.decode(bytes.fromhex(v["token_challenge"]))
    assert challenge.encode().hex() == v["token_challenge"]

    # "blind" in RFC 9578 A.2 is the blinding factor r (RFC 9474 §4.2).
    request, pending = issuance.begin(
        token_key,
        challenge,
        nonce=bytes.fromhex(v["nonce"]),
        salt=bytes.fromhex(v["salt"]),
        r=int(v["blind"], 16),
    )
    assert request.encode().hex() == v["token_request"]
    assert TokenRequest.decode(bytes.fromhex(v["token_request"])) == request

    response = issuance.evaluate([pair], request)
    assert response.encode().hex() == v["token_response"]
    assert TokenResponse.decode(response.encode()) == response

    token = issuance.finish(pending, response)
    assert token.encode().hex() == v["token"]
    assert Token.decode(bytes.fromhex(v["token"])) == token
    issuance.verify_token(token, token_key)
