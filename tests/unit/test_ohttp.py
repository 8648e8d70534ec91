"""privproc.ohttp: round trips, rotation, typed errors, decoder fuzzing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc import hpke, ohttp
from privproc.errors import (
    CryptoError,
    DecodeError,
    MisuseError,
    OpenError,
    PeerError,
    UnknownKeyError,
    UnsupportedError,
)

KEY = ohttp.ServerKey.derive(7, b"privproc ohttp unit test key ikm!")
XWING_KEY = ohttp.ServerKey.generate(9, kem=hpke.KEM.MLKEM768_X25519)
MLKEM_KEY = ohttp.ServerKey.generate(10, kem=hpke.KEM.MLKEM1024)
P256_KEY = ohttp.ServerKey.generate(
    11,
    kem=hpke.KEM.P256,
    suites=[ohttp.SymmetricSuite(hpke.KDF.HKDF_SHA384, hpke.AEAD.AES_256_GCM)],
)


@pytest.mark.parametrize(
    ("key", "aead"),
    [
        (KEY, None),
        (KEY, hpke.AEAD.CHACHA20_POLY1305),
        (XWING_KEY, None),
        (XWING_KEY, hpke.AEAD.AES_256_GCM),
        (P256_KEY, None),
        (MLKEM_KEY, None),
    ],
    ids=["x25519", "x25519-chacha", "xwing", "xwing-aes256", "p256-sha384", "mlkem1024"],
)
def test_round_trip(key: ohttp.ServerKey, aead: hpke.AEAD | None) -> None:
    enc_req, client = ohttp.encapsulate_request(key.config, b"GET /", aead=aead)
    assert enc_req[0] == key.config.key_id
    req, server = ohttp.decapsulate_request(key, enc_req)
    assert req == b"GET /"
    assert client.open(server.seal(b"200 OK")) == b"200 OK"


def test_rotation_and_unknown_key() -> None:
    old, new = ohttp.ServerKey.generate(1), ohttp.ServerKey.generate(2)
    enc_req, _ = ohttp.encapsulate_request(old.config, b"r")
    assert ohttp.decapsulate_request([new, old], enc_req)[0] == b"r"
    with pytest.raises(UnknownKeyError):
        ohttp.decapsulate_request([new], enc_req)
    # same key id but another KEM: also "unknown key" (§4.3 step 1a)
    clash = ohttp.ServerKey.generate(1, kem=hpke.KEM.P256)
    with pytest.raises(UnknownKeyError):
        ohttp.decapsulate_request(clash, enc_req)
    assert UnknownKeyError.http_status == 422


def test_unsupported_suite() -> None:
    with pytest.raises(UnsupportedError):
        ohttp.encapsulate_request(P256_KEY.config, b"r", aead=hpke.AEAD.AES_128_GCM)
    enc_req, _ = ohttp.encapsulate_request(KEY.config, b"r", aead=hpke.AEAD.AES_256_GCM)
    narrow = ohttp.ServerKey(
        ohttp.KeyConfig(
            KEY.config.key_id,
            KEY.config.kem,
            KEY.config.public_key,
            (ohttp.SymmetricSuite(1, 1),),
        ),
        KEY.private_key,
    )
    with pytest.raises(UnsupportedError):
        ohttp.decapsulate_request(narrow, enc_req)
    with pytest.raises(UnsupportedError):
        ohttp.KeyConfig.decode(b"\x01\x99\x99" + b"\x00" * 40)


def test_decode_list_skips_unknown_kem_but_rejects_bad_encoding() -> None:
    unknown_kem = b"\x05\x99\x99" + b"\x00" * 8
    good = KEY.config.encode()
    data = len(unknown_kem).to_bytes(2, "big") + unknown_kem + len(good).to_bytes(2, "big") + good
    assert ohttp.decode_list(data) == [KEY.config]
    with pytest.raises(UnsupportedError):
        ohttp.decode_list(data, skip_unsupported=False)
    with pytest.raises(DecodeError):
        ohttp.decode_list(data + b"\x00")
    with pytest.raises(DecodeError):
        ohttp.decode_list(b"")
    # algorithms length not a multiple of 4
    bad = good[:-6] + b"\x00\x03\x00\x01\x00"
    with pytest.raises(DecodeError):
        ohttp.KeyConfig.decode(bad)
    # a public key that is not a valid point
    p256 = P256_KEY.config.encode()
    with pytest.raises(DecodeError):
        ohttp.KeyConfig.decode(p256[:3] + b"\x04" + b"\x01" * 64 + p256[3 + 65 :])


def test_value_checks() -> None:
    with pytest.raises(MisuseError):
        ohttp.ServerKey(KEY.config, hpke.KEM.X25519.generate_key_pair()[0])
    with pytest.raises(MisuseError):
        ohttp.ServerKey(KEY.config, bytearray(KEY.private_key))  # type: ignore[arg-type]
    with pytest.raises(MisuseError):
        ohttp.KeyConfig(256, hpke.KEM.X25519, KEY.config.public_key, KEY.config.suites)
    with pytest.raises(MisuseError):
        ohttp.KeyConfig(1, hpke.KEM.X25519, b"short", KEY.config.suites)
    with pytest.raises(MisuseError):
        ohttp.KeyConfig(1, hpke.KEM.X25519, KEY.config.public_key, ())
    with pytest.raises(MisuseError):
        ohttp.SymmetricSuite(1, 0x10000)
    _, server = ohttp.decapsulate_request(KEY, ohttp.encapsulate_request(KEY.config, b"")[0])
    with pytest.raises(MisuseError):
        server.seal(b"x", nonce=b"short")
    assert repr(KEY.private_key) not in repr(KEY)
    _, client = ohttp.encapsulate_request(KEY.config, b"")
    assert repr(client.secret) not in repr(client)


def test_suite_choice_skips_unsupported_pairs() -> None:
    config = ohttp.KeyConfig(
        3,
        hpke.KEM.X25519,
        KEY.config.public_key,
        (
            ohttp.SymmetricSuite(0x0010, 1),  # a one-stage SHAKE KDF we do not implement
            ohttp.SymmetricSuite(1, hpke.AEAD.EXPORT_ONLY),  # cannot carry OHTTP
            ohttp.SymmetricSuite(3, 3),
        ),
    )
    assert config.hpke_suite() == hpke.Suite(
        hpke.KEM.X25519, hpke.KDF.HKDF_SHA512, hpke.AEAD.CHACHA20_POLY1305
    )
    assert ohttp.KeyConfig.decode(config.encode()) == config
    with pytest.raises(UnsupportedError):
        config.hpke_suite(hpke.KDF.HKDF_SHA256)
    assert ohttp.MEDIA_TYPE_KEYS == "application/ohttp-keys"
    assert ohttp.MEDIA_TYPE_REQUEST == "message/ohttp-req"
    assert ohttp.MEDIA_TYPE_RESPONSE == "message/ohttp-res"


def test_response_errors() -> None:
    enc_req, client = ohttp.encapsulate_request(KEY.config, b"q")
    _, server = ohttp.decapsulate_request(KEY, enc_req)
    res = server.seal(b"answer")
    with pytest.raises(DecodeError):
        client.open(res[:31])
    with pytest.raises(OpenError):
        client.open(res[:-1] + bytes([res[-1] ^ 1]))
    # a response sealed for another request does not open
    _, other_client = ohttp.encapsulate_request(KEY.config, b"q")
    with pytest.raises(OpenError):
        other_client.open(res)


@given(request=st.binary(max_size=2048), response=st.binary(max_size=2048))
def test_round_trip_property(request: bytes, response: bytes) -> None:
    enc_req, client = ohttp.encapsulate_request(KEY.config, request)
    got, server = ohttp.decapsulate_request(KEY, enc_req)
    assert got == request
    assert client.open(server.seal(response)) == response


@given(data=st.binary(max_size=200))
def test_decapsulate_random_bytes_typed(data: bytes) -> None:
    with pytest.raises((PeerError, CryptoError)):
        ohttp.decapsulate_request(KEY, bytes([KEY.config.key_id]) + data)


ALL_KEYS = [KEY, XWING_KEY, MLKEM_KEY, P256_KEY]


def _header(key: ohttp.ServerKey) -> bytes:
    """The 7-byte header of a request to ``key`` (RFC 9458 §4.3)."""
    return ohttp.encapsulate_request(key.config, b"")[0][:7]


@pytest.mark.parametrize("key", ALL_KEYS, ids=lambda k: k.config.kem.name)
@given(data=st.data())
def test_decapsulate_random_enc_and_ct_typed(key: ohttp.ServerKey, data: st.DataObject) -> None:
    """A valid §4.3 header, then random enc and ct of any length around Nenc, for each KEM."""
    hdr = _header(key)
    n_enc = key.config.kem.n_enc
    length = data.draw(st.one_of(st.integers(0, n_enc + 40), st.integers(n_enc, n_enc + 40)))
    body = data.draw(st.binary(min_size=length, max_size=length))
    with pytest.raises((PeerError, CryptoError)):
        ohttp.decapsulate_request([KEY, XWING_KEY, MLKEM_KEY, P256_KEY], hdr + body)


@pytest.mark.parametrize("key", ALL_KEYS, ids=lambda k: k.config.kem.name)
@given(response=st.binary(max_size=120))
def test_open_random_response_typed(key: ohttp.ServerKey, response: bytes) -> None:
    _, client = ohttp.encapsulate_request(key.config, b"q")
    with pytest.raises((DecodeError, OpenError)):
        client.open(response)


@given(data=st.data())
def test_decapsulate_mutated_request_typed(data: st.DataObject) -> None:
    enc_req, _ = ohttp.encapsulate_request(KEY.config, b"a request")
    i = data.draw(st.integers(0, len(enc_req) - 1))
    mutated = data.draw(
        st.sampled_from(
            [
                enc_req[:i],
                enc_req[:i]
                + bytes([enc_req[i] ^ (1 << data.draw(st.integers(0, 7)))])
                + enc_req[i + 1 :],
            ]
        )
    )
    with pytest.raises((PeerError, CryptoError)):
        ohttp.decapsulate_request(KEY, mutated)


@given(data=st.binary(max_size=300))
def test_key_config_decoders_typed(data: bytes) -> None:
    """Only typed errors escape; whatever decodes re-encodes to the same bytes."""
    try:
        config = ohttp.KeyConfig.decode(data)
    except PeerError:
        pass
    else:
        assert config.encode() == data
    try:
        configs = ohttp.decode_list(data, skip_unsupported=False)
    except PeerError:
        pass
    else:
        assert ohttp.encode_list(configs) == data


@given(data=st.data())
def test_key_config_list_mutations_typed(data: st.DataObject) -> None:
    blob = ohttp.encode_list([KEY.config, P256_KEY.config])
    assert ohttp.decode_list(blob) == [KEY.config, P256_KEY.config]
    i = data.draw(st.integers(0, len(blob) - 1))
    mutated = blob[:i] + bytes([data.draw(st.integers(0, 255))]) + blob[i + 1 :]
    try:
        configs = ohttp.decode_list(mutated)
    except PeerError:
        return
    assert ohttp.encode_list(configs) == mutated or len(configs) < 2


CANARY = b"canary-plaintext-91c4"


def test_no_plaintext_or_secret_in_reprs_and_errors() -> None:
    enc_req, client = ohttp.encapsulate_request(KEY.config, CANARY)
    request, server = ohttp.decapsulate_request(KEY, enc_req)
    assert request == CANARY
    res = server.seal(CANARY)
    shown = " ".join(repr(v) + str(v) for v in (KEY, KEY.config, client, server))
    for secret in (CANARY, KEY.private_key, client.secret, server.secret):
        assert secret.hex() not in shown
        assert repr(secret) not in shown
    errors = []
    for attempt in (
        lambda: ohttp.decapsulate_request(KEY, enc_req[:-1] + bytes([enc_req[-1] ^ 1])),
        lambda: ohttp.encapsulate_request(KEY.config, CANARY)[1].open(res),
        lambda: client.open(res[:-1] + bytes([res[-1] ^ 1])),
    ):
        with pytest.raises(OpenError) as info:
            attempt()
        errors.append(str(info.value))
    assert errors == ["decryption failed"] * 3


def test_response_contexts_are_checked_when_made() -> None:
    _, client = ohttp.encapsulate_request(KEY.config, b"q")
    suite = client.suite
    export_only = hpke.Suite(suite.kem, suite.kdf, hpke.AEAD.EXPORT_ONLY)
    for cls in (ohttp.ClientResponseContext, ohttp.ServerResponseContext):
        assert cls(suite, client.enc, client.secret).suite == suite
        for args in (
            (suite, client.enc[:-1], client.secret),
            (suite, client.enc, client.secret + b"x"),
            (export_only, client.enc, client.secret),
            ("suite", client.enc, client.secret),
            (suite, bytearray(client.enc), client.secret),
        ):
            with pytest.raises(MisuseError):
                cls(*args)
