"""Privacy Pass encodings (RFC 9577, RFC 9578): round trips, refusals, fuzzing."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.errors import DecodeError, MisuseError, TokenError, UnknownKeyError
from privproc.tokens import _spki, http_auth, issuance
from privproc.tokens.blind_rsa import PrivateKey
from privproc.tokens.protocol import (
    DirectoryKey,
    IssuerDirectory,
    Token,
    TokenChallenge,
    TokenKey,
    TokenRequest,
    TokenResponse,
    b64url_decode,
    b64url_encode,
)


@pytest.fixture(scope="module")
def pair() -> issuance.IssuerKeyPair:
    return issuance.IssuerKeyPair.from_private_key(PrivateKey.generate(2048))


CHALLENGE = TokenChallenge(2, "issuer.example", b"\x07" * 32, "origin.example,other.example")


def _token(pair: issuance.IssuerKeyPair, challenge: TokenChallenge = CHALLENGE) -> Token:
    request, pending = issuance.begin(pair.token_key, challenge)
    return issuance.finish(pending, issuance.evaluate([pair], request))


def test_challenge_round_trip() -> None:
    assert TokenChallenge.decode(CHALLENGE.encode()) == CHALLENGE
    assert CHALLENGE.origins == ("origin.example", "other.example")


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"issuer_name": ""}, MisuseError),
        ({"issuer_name": "é"}, MisuseError),
        ({"redemption_context": b"x" * 5}, MisuseError),
    ],
)
def test_challenge_refuses(kwargs: dict[str, object], error: type[Exception]) -> None:
    base: dict[str, object] = {"token_type": 2, "issuer_name": "i"}
    base.update(kwargs)
    with pytest.raises(error):
        TokenChallenge(**base)  # type: ignore[arg-type]


def test_challenge_decode_refuses_bad_context_and_trailing() -> None:
    bad = bytes.fromhex("00020001690501020304050000")
    with pytest.raises(DecodeError):
        TokenChallenge.decode(bad)
    with pytest.raises(DecodeError):
        TokenChallenge.decode(CHALLENGE.encode() + b"\x00")


def test_issuance_and_verification(pair: issuance.IssuerKeyPair) -> None:
    token = _token(pair)
    assert Token.decode(token.encode()) == token
    assert issuance.verify_token(token, pair.token_key) is token
    assert token.challenge_digest == CHALLENGE.digest()


def test_verify_refuses_tampered_and_foreign(pair: issuance.IssuerKeyPair) -> None:
    token = _token(pair)
    raw = bytearray(token.encode())
    raw[5] ^= 1  # the nonce
    with pytest.raises(TokenError) as info:
        issuance.verify_token(Token.decode(bytes(raw)), pair.token_key)
    assert info.value.check == "token.authenticator"
    other = issuance.IssuerKeyPair.from_private_key(PrivateKey.generate(2048))
    with pytest.raises(TokenError) as info:
        issuance.verify_token(token, other.token_key)
    assert info.value.check == "token.key_id"


def test_evaluate_refuses_unknown_key(pair: issuance.IssuerKeyPair) -> None:
    request, _ = issuance.begin(pair.token_key, CHALLENGE)
    other = TokenRequest((request.truncated_token_key_id + 1) % 256, request.blinded_msg)
    with pytest.raises(UnknownKeyError):
        issuance.evaluate([pair], other)


def test_request_decode_refusals() -> None:
    good = TokenRequest(7, b"\x01" * 256).encode()
    assert TokenRequest.decode(good).truncated_token_key_id == 7
    with pytest.raises(DecodeError):
        TokenRequest.decode(b"\x00\x01" + good[2:])
    with pytest.raises(DecodeError):
        TokenRequest.decode(good[:-1])
    with pytest.raises(DecodeError):
        TokenRequest.decode(good + b"\x00")
    with pytest.raises(DecodeError):
        TokenResponse.decode(b"\x00" * 255)


def test_spki_round_trip_and_refusals(pair: issuance.IssuerKeyPair) -> None:
    spki = pair.token_key.spki
    assert TokenKey.decode(spki) == pair.token_key
    assert len(pair.token_key.key_id) == 32
    assert pair.token_key.truncated_key_id == pair.token_key.key_id[-1]
    # The NULL-parameter form of the same key is accepted, with its own key id.
    with_null = _spki._seq(
        _spki._ALG_IDS[1],
        _spki._tlv(
            0x03,
            b"\x00" + _spki._seq(_spki._uint(pair.private_key.public_key.n), _spki._uint(65537)),
        ),
    )
    assert TokenKey.decode(with_null).public_key == pair.private_key.public_key
    # rsaEncryption SPKI (what cryptography writes) is refused.
    from cryptography.hazmat.primitives import serialization

    plain = pair.private_key.public_key.to_cryptography().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(DecodeError):
        TokenKey.decode(plain)
    with pytest.raises(DecodeError):
        TokenKey.decode(spki[:-1])
    with pytest.raises(DecodeError):
        TokenKey.decode(spki + b"\x00")


@given(st.binary(max_size=600))
def test_decoders_raise_only_decode_error(data: bytes) -> None:
    for decode in (
        TokenChallenge.decode,
        TokenRequest.decode,
        TokenResponse.decode,
        Token.decode,
        TokenKey.decode,
        IssuerDirectory.from_json,
    ):
        with contextlib.suppress(DecodeError):
            decode(data)


@given(st.text(max_size=300))
def test_header_parsers_raise_only_decode_error(text: str) -> None:
    for parse in (http_auth.parse_www_authenticate, http_auth.parse_authorization):
        with contextlib.suppress(DecodeError):
            parse(text)


def test_b64url() -> None:
    assert b64url_decode(b64url_encode(b"\xff\xfe")) == b"\xff\xfe"
    assert b64url_decode(b64url_encode(b"\xff\xfe", pad=False)) == b"\xff\xfe"
    for bad in ("a+b/", "a", "ab$c"):
        with pytest.raises(DecodeError):
            b64url_decode(bad)


def test_directory_round_trip(pair: issuance.IssuerKeyPair) -> None:
    d = IssuerDirectory(
        "/token-request",
        (DirectoryKey(2, pair.token_key.spki, 1000), DirectoryKey(1, b"voprf-key")),
    )
    body = json.loads(d.to_json())
    assert body["token-keys"][0]["token-type"] == 2
    assert body["token-keys"][0]["not-before"] == 1000
    assert "not-before" not in body["token-keys"][1]
    again = IssuerDirectory.from_json(d.to_json())
    assert again == d
    assert again.usable_keys(now=2000) == (pair.token_key,)
    assert again.usable_keys(now=10) == ()


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"{}",
        b'{"issuer-request-uri": 1, "token-keys": []}',
        b'{"issuer-request-uri": "/r", "token-keys": [{"token-type": "2", "token-key": "AA"}]}',
        b'{"issuer-request-uri": "/r", "token-keys": [{"token-type": 2, "token-key": "!"}]}',
        b'{"issuer-request-uri": "/r", "token-keys": [{"token-type": 2, "token-key": "AA",'
        b' "not-before": -1}]}',
        b"\xff",
    ],
)
def test_directory_refuses(body: bytes) -> None:
    with pytest.raises(DecodeError):
        IssuerDirectory.from_json(body)


def test_www_authenticate_round_trip(pair: issuance.IssuerKeyPair) -> None:
    header = http_auth.format_challenge(CHALLENGE, pair.token_key.spki, max_age=60)
    [parsed] = http_auth.parse_www_authenticate(header)
    assert parsed.challenge == CHALLENGE
    assert parsed.challenge_bytes == CHALLENGE.encode()
    assert parsed.token_key == pair.token_key.spki
    assert parsed.max_age == 60


def test_www_authenticate_robust(pair: issuance.IssuerKeyPair) -> None:
    c = b64url_encode(CHALLENGE.encode(), pad=False)
    k = b64url_encode(pair.token_key.spki)
    header = (
        f'Basic realm="x, y", privatetoken CHALLENGE={c} ,token-key="{k}",'
        f'  PrivateToken challenge="{c}", token-key={k}, Negotiate abc=='
    )
    parsed = http_auth.parse_www_authenticate(header)
    assert len(parsed) == 2
    assert all(p.challenge == CHALLENGE for p in parsed)
    with pytest.raises(DecodeError):
        http_auth.parse_www_authenticate(f'PrivateToken challenge="{c}"')
    with pytest.raises(DecodeError):
        http_auth.parse_www_authenticate('PrivateToken challenge="abc')
    assert http_auth.parse_www_authenticate("Basic realm=x") == []


def test_authorization_round_trip(pair: issuance.IssuerKeyPair) -> None:
    token = _token(pair)
    header = http_auth.format_authorization(token)
    assert http_auth.parse_authorization(header) == token
    bare = "privatetoken  token=" + b64url_encode(token.encode(), pad=False)
    assert http_auth.parse_authorization(bare) == token
    for bad in ("Bearer abc", "PrivateToken foo=bar", "", f"{header}, Basic x"):
        with pytest.raises(DecodeError):
            http_auth.parse_authorization(bad)
