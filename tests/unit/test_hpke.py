"""privproc.hpke: cross-checks against cryptography's own HPKE, misuse, typed errors."""

from __future__ import annotations

import functools
import itertools

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.bindings._rust import openssl as rust_openssl
from cryptography.hazmat.primitives import hpke as crypto_hpke
from cryptography.hazmat.primitives.asymmetric import x448
from hypothesis import given
from hypothesis import strategies as st

from privproc import hpke
from privproc.errors import CryptoError, DecodeError, MisuseError, OpenError, UnsupportedError

# The suites cryptography's single-shot HPKE also implements (it has no X448).
CRYPTO_KEMS = {
    hpke.KEM.X25519: crypto_hpke.KEM.X25519,
    hpke.KEM.P256: crypto_hpke.KEM.P256,
    hpke.KEM.P384: crypto_hpke.KEM.P384,
    hpke.KEM.P521: crypto_hpke.KEM.P521,
    hpke.KEM.MLKEM768: crypto_hpke.KEM.MLKEM768,
    hpke.KEM.MLKEM1024: crypto_hpke.KEM.MLKEM1024,
    hpke.KEM.MLKEM768_X25519: crypto_hpke.KEM.MLKEM768_X25519,
}
CRYPTO_KDFS = {
    hpke.KDF.HKDF_SHA256: crypto_hpke.KDF.HKDF_SHA256,
    hpke.KDF.HKDF_SHA384: crypto_hpke.KDF.HKDF_SHA384,
    hpke.KDF.HKDF_SHA512: crypto_hpke.KDF.HKDF_SHA512,
}
CRYPTO_AEADS = {
    hpke.AEAD.AES_128_GCM: crypto_hpke.AEAD.AES_128_GCM,
    hpke.AEAD.AES_256_GCM: crypto_hpke.AEAD.AES_256_GCM,
    hpke.AEAD.CHACHA20_POLY1305: crypto_hpke.AEAD.CHACHA20_POLY1305,
}
CROSS = list(itertools.product(CRYPTO_KEMS, CRYPTO_KDFS, CRYPTO_AEADS))


@pytest.mark.parametrize(("kem", "kdf", "aead"), CROSS)
def test_cross_check_with_cryptography(kem: hpke.KEM, kdf: hpke.KDF, aead: hpke.AEAD) -> None:
    ours = hpke.Suite(kem, kdf, aead)
    theirs = crypto_hpke.Suite(CRYPTO_KEMS[kem], CRYPTO_KDFS[kdf], CRYPTO_AEADS[aead])
    sk, pk = ours.generate_key_pair()
    info, aad, pt = b"privproc cross-check", b"aad", b"hello from one implementation"
    # ours -> theirs
    enc, ct = ours.seal(pk, pt, info=info, aad=aad)
    assert len(enc) == kem.n_enc == CRYPTO_KEMS[kem].enc_length()
    sk_obj = kem.deserialize_private(sk)
    pk_obj = kem.deserialize(pk)
    # CRYPTO_KEMS has no X448 (cryptography's HPKE does not implement it).
    assert not isinstance(sk_obj, x448.X448PrivateKey)
    assert not isinstance(pk_obj, x448.X448PublicKey)
    assert rust_openssl.hpke._decrypt_with_aad(theirs, enc + ct, sk_obj, info=info, aad=aad) == pt
    enc2, ct2 = ours.seal(pk, pt, info=info)
    assert theirs.decrypt(enc2 + ct2, sk_obj, info=info) == pt
    # theirs -> ours
    blob = rust_openssl.hpke._encrypt_with_aad(theirs, pt, pk_obj, info=info, aad=aad)
    n = kem.n_enc
    assert ours.open(blob[:n], sk, blob[n:], info=info, aad=aad) == pt
    # a wrong info fails on both sides
    with pytest.raises(InvalidTag):
        theirs.decrypt(enc2 + ct2, sk_obj, info=b"other")
    with pytest.raises(OpenError):
        ours.open(enc2, sk, ct2, info=b"other")


@pytest.mark.parametrize("mode", list(hpke.Mode))
@pytest.mark.parametrize("kem", [k for k in hpke.KEM if k.supports_auth])
def test_modes_round_trip(mode: hpke.Mode, kem: hpke.KEM) -> None:
    suite = hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk_r, pk_r = suite.generate_key_pair()
    sk_s, pk_s = suite.generate_key_pair()
    psk, psk_id = (b"k" * 32, b"id") if mode in (hpke.Mode.PSK, hpke.Mode.AUTH_PSK) else (b"", b"")
    auth = mode in (hpke.Mode.AUTH, hpke.Mode.AUTH_PSK)
    enc, s = suite.setup_sender(
        pk_r, b"info", mode=mode, psk=psk, psk_id=psk_id, sk_s=sk_s if auth else None
    )
    r = suite.setup_recipient(
        enc, sk_r, b"info", mode=mode, psk=psk, psk_id=psk_id, pk_s=pk_s if auth else None
    )
    for i in range(3):
        assert r.open(s.seal(b"m%d" % i, b"a"), b"a") == b"m%d" % i
    assert r.export(b"ctx", 42) == s.export(b"ctx", 42)
    if auth:
        _, other_pk = suite.generate_key_pair()
        wrong = suite.setup_recipient(
            enc, sk_r, b"info", mode=mode, psk=psk, psk_id=psk_id, pk_s=other_pk
        )
        with pytest.raises(OpenError):
            wrong.open(s.seal(b"x"))


def test_verify_psk_inputs() -> None:
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    _, pk = suite.generate_key_pair()
    with pytest.raises(MisuseError, match="inconsistent"):
        suite.setup_sender(pk, mode=hpke.Mode.PSK, psk=b"k" * 32)
    with pytest.raises(MisuseError, match="not needed"):
        suite.setup_sender(pk, mode=hpke.Mode.BASE, psk=b"k" * 32, psk_id=b"i")
    with pytest.raises(MisuseError, match="missing"):
        suite.setup_sender(pk, mode=hpke.Mode.PSK)
    with pytest.raises(MisuseError, match="32 bytes"):
        suite.setup_sender(pk, mode=hpke.Mode.PSK, psk=b"short", psk_id=b"i")
    with pytest.raises(MisuseError, match="auth"):
        suite.setup_sender(pk, mode=hpke.Mode.AUTH)
    sk_s, _ = suite.generate_key_pair()
    with pytest.raises(MisuseError, match="auth"):
        suite.setup_sender(pk, mode=hpke.Mode.BASE, sk_s=sk_s)


def test_xwing_refuses_auth_and_ikm_e() -> None:
    suite = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk, pk = suite.generate_key_pair()
    assert len(sk) == 32
    assert len(pk) == 1216
    with pytest.raises(MisuseError, match="AuthEncap"):
        suite.setup_sender(pk, mode=hpke.Mode.AUTH, sk_s=sk)
    with pytest.raises(MisuseError, match="deterministic"):
        suite.setup_sender(pk, ikm_e=b"e" * 64)
    with pytest.raises(MisuseError):
        suite.kem.serialize(suite.kem.deserialize(pk))


@pytest.mark.parametrize("kem", [hpke.KEM.MLKEM768, hpke.KEM.MLKEM1024])
def test_mlkem_refuses_auth_and_bad_input(kem: hpke.KEM) -> None:
    suite = hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk, pk = suite.generate_key_pair()
    assert (len(sk), len(pk)) == (64, kem.n_pk)
    with pytest.raises(MisuseError, match="AuthEncap"):
        suite.setup_sender(pk, mode=hpke.Mode.AUTH, sk_s=sk)
    with pytest.raises(MisuseError, match="deterministic"):
        suite.setup_sender(pk, ikm_e=b"e" * 64)
    with pytest.raises(DecodeError):
        suite.setup_sender(b"\xff" * kem.n_pk)
    with pytest.raises(DecodeError):
        suite.setup_recipient(b"\x00" * (kem.n_enc - 1), sk)
    with pytest.raises(MisuseError):
        hpke.KEM.MLKEM1024.serialize(hpke.KEM.MLKEM768.deserialize_private(b"\x01" * 64))
    # a random enc of the right length decapsulates (implicit rejection) and then fails open
    enc = bytes(range(256)) * (kem.n_enc // 256) + b"\x00" * (kem.n_enc % 256)
    with pytest.raises(OpenError):
        suite.open(enc, sk, b"\x00" * 32)


def test_sequence_number_overflow() -> None:
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk, pk = suite.generate_key_pair()
    enc, s = suite.setup_sender(pk)
    r = suite.setup_recipient(enc, sk)
    last = (1 << 96) - 1
    s._seq = last - 1  # test hook: jump to the end of the nonce space
    r._seq = last - 1
    assert r.open(s.seal(b"final")) == b"final"
    with pytest.raises(MisuseError, match="message limit"):
        s.seal(b"one too many")
    with pytest.raises(MisuseError, match="message limit"):
        r.open(b"\x00" * 32)


def test_export_limits_and_export_only() -> None:
    suite = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.EXPORT_ONLY)
    sk, pk = suite.generate_key_pair()
    enc, s = suite.setup_sender(pk)
    r = suite.setup_recipient(enc, sk)
    assert s.export(b"", 255 * 32) == r.export(b"", 255 * 32)
    with pytest.raises(MisuseError):
        s.export(b"", 255 * 32 + 1)
    with pytest.raises(MisuseError):
        s.export(b"", 0)
    with pytest.raises(MisuseError, match="export-only"):
        s.seal(b"x")


def test_ids_and_construction() -> None:
    assert hpke.Suite.from_ids(0x20, 1, 1).suite_id == bytes.fromhex("48504b45002000010001")
    with pytest.raises(UnsupportedError):
        hpke.Suite.from_ids(0x9999, 1, 1)
    with pytest.raises(UnsupportedError):
        hpke.Suite.from_ids(0x20, 0x10, 1)
    with pytest.raises(UnsupportedError):
        hpke.Suite.from_ids(0x20, 1, 7)
    with pytest.raises(MisuseError):
        hpke.Suite(0x20, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)  # type: ignore[arg-type]
    with pytest.raises(MisuseError):
        hpke.KEM.X25519.derive_key_pair(b"short")
    with pytest.raises(MisuseError):
        hpke.KEM.P256.public_key(b"\x00" * 32)  # zero scalar
    with pytest.raises(MisuseError):
        hpke.KEM.P256.public_key(b"\x01" * 31)
    with pytest.raises(MisuseError):
        hpke.KEM.X25519.serialize(hpke.KEM.P256.deserialize(hpke.KEM.P256.generate_key_pair()[1]))


def test_bad_peer_keys_are_typed() -> None:
    p256 = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk, pk = p256.generate_key_pair()
    compressed = bytes([2 + (pk[-1] & 1)]) + pk[1:33]
    with pytest.raises(DecodeError):
        p256.setup_sender(compressed)
    with pytest.raises(DecodeError):
        p256.setup_sender(b"\x04" + b"\x01" * 64)  # not on the curve
    with pytest.raises(DecodeError):
        p256.setup_recipient(b"\x05" + pk[1:], sk)
    x = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    xsk, _ = x.generate_key_pair()
    with pytest.raises(CryptoError):
        x.setup_recipient(b"\x00" * 32, xsk)  # low-order point: all-zero DH output
    with pytest.raises(DecodeError):
        x.setup_recipient(b"\x00" * 31, xsk)
    xw = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    wsk, _ = xw.generate_key_pair()
    with pytest.raises(DecodeError):
        xw.setup_sender(b"\xff" * 1216)  # ML-KEM coefficients out of range
    with pytest.raises(DecodeError):
        xw.setup_recipient(b"\x00" * 1119, wsk)


# -- properties ------------------------------------------------------------------------------

X25519_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
P256_SUITE = hpke.Suite(hpke.KEM.P256, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
_KEYS = {s: s.generate_key_pair() for s in (X25519_SUITE, P256_SUITE)}


@given(pt=st.binary(max_size=512), aad=st.binary(max_size=64), info=st.binary(max_size=64))
def test_round_trip_property(pt: bytes, aad: bytes, info: bytes) -> None:
    for suite, (sk, pk) in _KEYS.items():
        enc, ct = suite.seal(pk, pt, info=info, aad=aad)
        assert len(ct) == len(pt) + 16
        assert suite.open(enc, sk, ct, info=info, aad=aad) == pt


@given(pt=st.binary(max_size=64), data=st.data())
def test_tampering_gives_typed_errors(pt: bytes, data: st.DataObject) -> None:
    for suite, (sk, pk) in _KEYS.items():
        enc, ct = suite.seal(pk, pt)
        which = data.draw(st.sampled_from(["ct-flip", "ct-trunc", "enc-flip", "enc-trunc", "rand"]))
        if which == "ct-flip":
            i = data.draw(st.integers(0, len(ct) - 1))
            bit = data.draw(st.integers(0, 7))
            ct = ct[:i] + bytes([ct[i] ^ (1 << bit)]) + ct[i + 1 :]
        elif which == "ct-trunc":
            ct = ct[: data.draw(st.integers(0, len(ct) - 1))]
        elif which == "enc-flip":
            i = data.draw(st.integers(0, len(enc) - 1))
            enc = enc[:i] + bytes([enc[i] ^ (1 << data.draw(st.integers(0, 7)))]) + enc[i + 1 :]
        elif which == "enc-trunc":
            enc = enc[: data.draw(st.integers(0, len(enc) - 1))]
        else:
            enc = data.draw(st.binary(min_size=len(enc), max_size=len(enc)))
            ct = data.draw(st.binary(max_size=96))
        with pytest.raises((OpenError, CryptoError, DecodeError)):
            suite.open(enc, sk, ct)


@given(
    enc=st.one_of(st.binary(max_size=1200), st.binary(min_size=1120, max_size=1120)),
    ct=st.binary(max_size=64),
)
def test_random_input_xwing_typed(enc: bytes, ct: bytes) -> None:
    suite = hpke.Suite(hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk = b"\x07" * 32
    with pytest.raises((OpenError, CryptoError, DecodeError)):
        suite.open(enc, sk, ct)


# -- every KEM, hostile peer bytes ---------------------------------------------------------

ALL_KEMS = list(hpke.KEM)
_KEM_KEYS = {kem: kem.derive_key_pair(bytes([kem.value & 0xFF]) * 80) for kem in ALL_KEMS}
_NIST = (hpke.KEM.P256, hpke.KEM.P384, hpke.KEM.P521)


def _peer_bytes(data: st.DataObject, kem: hpke.KEM, size: int) -> bytes:
    """Random bytes of a random length, or of exactly ``size`` (half the time), with the
    uncompressed-point prefix for the NIST curves so the point check itself is reached."""
    length = data.draw(st.one_of(st.integers(0, size + 8), st.just(size)), label="length")
    raw = data.draw(st.binary(min_size=length, max_size=length), label="raw")
    if kem in _NIST and raw and data.draw(st.booleans(), label="0x04"):
        raw = b"\x04" + raw[1:]
    return raw


@pytest.mark.parametrize("kem", ALL_KEMS, ids=[k.name for k in ALL_KEMS])
@given(data=st.data())
def test_deserialize_random_bytes_typed(kem: hpke.KEM, data: st.DataObject) -> None:
    """DeserializePublicKey (RFC 9180 §7.1.1, §7.1.4): DecodeError or a key that round-trips."""
    raw = _peer_bytes(data, kem, kem.n_pk)
    try:
        key = kem.deserialize(raw)
    except DecodeError:
        return
    assert len(raw) == kem.n_pk
    if kem is not hpke.KEM.MLKEM768_X25519:  # X-Wing keys are opaque in cryptography
        assert kem.serialize(key) == raw


@pytest.mark.parametrize("kem", ALL_KEMS, ids=[k.name for k in ALL_KEMS])
@given(data=st.data())
def test_setup_recipient_random_enc_typed(kem: hpke.KEM, data: st.DataObject) -> None:
    """Decap of any enc, then Open of any ct: only OpenError, CryptoError or DecodeError."""
    suite = hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk, _ = _KEM_KEYS[kem]
    enc = _peer_bytes(data, kem, kem.n_enc)
    ct = data.draw(st.binary(max_size=64), label="ct")
    with pytest.raises((OpenError, CryptoError, DecodeError)):
        suite.open(enc, sk, ct)


@functools.cache
def _auth_message(kem: hpke.KEM) -> tuple[hpke.Suite, bytes, bytes, bytes]:
    """One auth-mode message per KEM (made once): suite, skR, enc, ct."""
    suite = hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk_r, pk_r = _KEM_KEYS[kem]
    sk_s, _ = suite.generate_key_pair()
    enc, sender = suite.setup_sender(pk_r, mode=hpke.Mode.AUTH, sk_s=sk_s)
    return suite, sk_r, enc, sender.seal(b"m")


@pytest.mark.parametrize("kem", [k for k in ALL_KEMS if k.supports_auth], ids=lambda k: k.name)
@given(data=st.data())
def test_auth_recipient_random_sender_key_typed(kem: hpke.KEM, data: st.DataObject) -> None:
    """AuthDecap (RFC 9180 §4.1) with a hostile pkS: typed errors only."""
    suite, sk_r, enc, ct = _auth_message(kem)
    pk_s = _peer_bytes(data, kem, kem.n_pk)
    with pytest.raises((OpenError, CryptoError, DecodeError)):
        suite.setup_recipient(enc, sk_r, mode=hpke.Mode.AUTH, pk_s=pk_s).open(ct)


CANARY = b"canary-plaintext-5d1e"


@pytest.mark.parametrize("kem", ALL_KEMS, ids=[k.name for k in ALL_KEMS])
def test_contexts_and_errors_show_no_secrets(kem: hpke.KEM) -> None:
    suite = hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk, pk = _KEM_KEYS[kem]
    enc, sender = suite.setup_sender(pk, b"info")
    recipient = suite.setup_recipient(enc, sk, b"info")
    ct = sender.seal(CANARY)
    exported = sender.export(b"ctx", 32)
    private = kem.deserialize_private(sk)
    shown = " ".join(
        [repr(sender), str(sender), repr(recipient), str(recipient), repr(suite), repr(private)]
    )
    for secret in (sk, exported, CANARY):
        assert secret.hex() not in shown
        assert repr(secret) not in shown
    other = suite.setup_recipient(enc, sk, b"other info")
    with pytest.raises(OpenError) as info:
        other.open(ct)
    assert str(info.value) == "decryption failed"
    assert recipient.open(ct) == CANARY


@pytest.mark.parametrize("kem", [k for k in hpke.KEM if k is not hpke.KEM.MLKEM768_X25519])
def test_recipient_key_object_opens_like_its_bytes(kem: hpke.KEM) -> None:
    # Issue 12 item 4: a recipient key can live as a cryptography object only.
    suite = hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk_obj = kem.generate_private_key()
    pk = kem.serialize(sk_obj.public_key())
    enc, ct = suite.seal(pk, b"to the object", info=b"i", aad=b"a")
    assert suite.open(enc, sk_obj, ct, info=b"i", aad=b"a") == b"to the object"
    other = hpke.KEM.X448 if kem is hpke.KEM.X25519 else hpke.KEM.X25519
    with pytest.raises(MisuseError):
        suite.setup_recipient(enc, other.generate_private_key(), b"i")


def test_xwing_has_no_private_key_object() -> None:
    kem = hpke.KEM.MLKEM768_X25519
    suite = hpke.Suite(kem, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_128_GCM)
    sk, pk = kem.generate_key_pair()
    enc, ct = suite.seal(pk, b"seed only")
    assert suite.open(enc, sk, ct) == b"seed only"
    with pytest.raises(MisuseError):
        kem.generate_private_key()
    with pytest.raises(MisuseError):
        suite.setup_recipient(enc, kem.deserialize_private(sk))
