"""Blind RSA (RFC 9474): round trips and every refusal."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from hypothesis import given, settings
from hypothesis import strategies as st

from privproc.errors import CryptoError, DecodeError, MisuseError, TokenError
from privproc.tokens import blind_rsa
from privproc.tokens.blind_rsa import PrivateKey, Variant


@pytest.fixture(scope="module")
def sk() -> PrivateKey:
    return PrivateKey.generate(2048)


@pytest.mark.parametrize("variant", list(Variant))
def test_round_trip_verifies_with_openssl(sk: PrivateKey, variant: Variant) -> None:
    pk = sk.public_key
    msg = blind_rsa.prepare(b"hello", variant)
    blinded, inv = blind_rsa.blind(pk, msg, variant)
    sig = blind_rsa.finalize(pk, msg, blind_rsa.blind_sign(sk, blinded), inv, variant)
    assert len(sig) == pk.modulus_len
    # An ordinary RSASSA-PSS signature: OpenSSL (via cryptography) accepts it.
    pk.to_cryptography().verify(
        sig,
        msg,
        padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=variant.salt_len),
        hashes.SHA384(),
    )


def test_blinding_hides_the_message(sk: PrivateKey) -> None:
    pk = sk.public_key
    v = Variant.PSS_DETERMINISTIC
    a, _ = blind_rsa.blind(pk, b"same", v)
    b, _ = blind_rsa.blind(pk, b"same", v)
    assert a != b


def test_crt_signature_is_m_to_the_d(sk: PrivateKey) -> None:
    blinded, _ = blind_rsa.blind(sk.public_key, b"m", Variant.PSS_DETERMINISTIC)
    m = int.from_bytes(blinded, "big")
    expected = pow(m, sk.d, sk.public_key.n).to_bytes(sk.public_key.modulus_len, "big")
    assert blind_rsa.blind_sign(sk, blinded) == expected


def test_finalize_refuses_a_wrong_blind_signature(sk: PrivateKey) -> None:
    pk = sk.public_key
    v = Variant.PSS_DETERMINISTIC
    blinded, inv = blind_rsa.blind(pk, b"m", v)
    bad = bytearray(blind_rsa.blind_sign(sk, blinded))
    bad[-1] ^= 1
    with pytest.raises(TokenError) as info:
        blind_rsa.finalize(pk, b"m", bytes(bad), inv, v)
    assert info.value.check == "blind_rsa.signature"


def test_finalize_refuses_wrong_length_and_out_of_range(sk: PrivateKey) -> None:
    pk = sk.public_key
    v = Variant.PSS_DETERMINISTIC
    with pytest.raises(TokenError):
        blind_rsa.finalize(pk, b"m", b"\x01" * 10, 1, v)
    with pytest.raises(TokenError):
        blind_rsa.finalize(pk, b"m", b"\xff" * pk.modulus_len, 1, v)


def test_blind_sign_refuses_bad_input(sk: PrivateKey) -> None:
    k = sk.public_key.modulus_len
    with pytest.raises(DecodeError):
        blind_rsa.blind_sign(sk, b"\x00" * (k - 1))
    with pytest.raises(DecodeError):
        blind_rsa.blind_sign(sk, b"\xff" * k)


def test_blind_sign_checks_its_own_output(sk: PrivateKey, monkeypatch: pytest.MonkeyPatch) -> None:
    blinded, _ = blind_rsa.blind(sk.public_key, b"m", Variant.PSS_DETERMINISTIC)

    def faulty(self: PrivateKey, m: int, backend: str = "gmpy2") -> int:
        return 12345  # a CRT fault: wrong result

    monkeypatch.setattr(PrivateKey, "rsasp1_crt", faulty)
    with pytest.raises(CryptoError):
        blind_rsa.blind_sign(sk, blinded)


def test_blind_refuses_non_invertible_r(sk: PrivateKey) -> None:
    pk = sk.public_key
    with pytest.raises(CryptoError):
        blind_rsa.blind(pk, b"m", Variant.PSS_DETERMINISTIC, r=sk.p)
    with pytest.raises(CryptoError):
        blind_rsa.blind(pk, b"m", Variant.PSS_DETERMINISTIC, r=0)


def test_blind_draws_r_until_coprime(sk: PrivateKey) -> None:
    draws = iter([sk.p - 1, 41])  # first r = p is not invertible mod n; the next one is

    blinded, inv = blind_rsa.blind(
        sk.public_key, b"m", Variant.PSS_DETERMINISTIC, rng=lambda _n: next(draws)
    )
    assert inv == pow(42, -1, sk.public_key.n)
    assert len(blinded) == sk.public_key.modulus_len


def test_private_repr_hides_secrets(sk: PrivateKey) -> None:
    text = repr(sk)
    assert str(sk.d) not in text
    assert str(sk.p) not in text


def test_key_validation() -> None:
    with pytest.raises(MisuseError):
        blind_rsa.PublicKey(2**1024 + 1, 65537)
    with pytest.raises(MisuseError):
        blind_rsa.PublicKey(2**2048 + 1, 4)


def test_prepare_rules() -> None:
    assert blind_rsa.prepare(b"m", Variant.PSS_DETERMINISTIC) == b"m"
    assert len(blind_rsa.prepare(b"m", Variant.PSS_RANDOMIZED)) == 33
    with pytest.raises(MisuseError):
        blind_rsa.prepare(b"m", Variant.PSS_RANDOMIZED, prefix=b"short")
    with pytest.raises(MisuseError):
        blind_rsa.prepare(b"m", Variant.PSS_DETERMINISTIC, prefix=b"\x00" * 32)
    with pytest.raises(MisuseError):
        Variant.from_name("RSABSSA-SHA256-PSS-Deterministic")


@given(msg=st.binary(max_size=200), variant=st.sampled_from(list(Variant)))
@settings(max_examples=20)
def test_round_trip_any_message(sk: PrivateKey, msg: bytes, variant: Variant) -> None:
    pk = sk.public_key
    prepared = blind_rsa.prepare(msg, variant)
    blinded, inv = blind_rsa.blind(pk, prepared, variant)
    sig = blind_rsa.finalize(pk, prepared, blind_rsa.blind_sign(sk, blinded), inv, variant)
    assert blind_rsa.verify(pk, prepared, sig, variant) == sig
