"""RFC 9458 Appendix A, byte for byte (source: data/ohttp/SOURCES.md)."""

from __future__ import annotations

from privproc import hpke, ohttp
from tests._vectors import load_json

V = load_json("ohttp", "rfc9458-appendix-a.json")


def h(name: str) -> bytes:
    return bytes.fromhex(V[name])


def _server_key() -> ohttp.ServerKey:
    return ohttp.ServerKey(ohttp.KeyConfig.decode(h("key_config")), h("server_sk"))


def test_key_config() -> None:
    config = ohttp.KeyConfig.decode(h("key_config"))
    assert config.key_id == 1
    assert config.kem_id == 0x0020
    assert config.public_key == hpke.KEM.X25519.public_key(h("server_sk"))
    assert config.suites == (ohttp.SymmetricSuite(1, 1), ohttp.SymmetricSuite(1, 3))
    assert config.encode() == h("key_config")
    assert ohttp.decode_list(ohttp.encode_list([config])) == [config]


def test_request_and_response_exact_bytes() -> None:
    config = ohttp.KeyConfig.decode(h("key_config"))
    assert hpke.KEM.X25519.public_key(h("ephemeral_sk")) == h("ephemeral_pk")
    enc_request, client = ohttp.encapsulate_request(
        config,
        h("request"),
        kdf=hpke.KDF(V["kdf_id"]),
        aead=hpke.AEAD(V["aead_id"]),
        sk_e=h("ephemeral_sk"),
    )
    assert enc_request == h("encapsulated_request")
    assert client.secret == h("exported_secret")

    request, server = ohttp.decapsulate_request(_server_key(), enc_request)
    assert request == h("request")
    assert server.secret == h("exported_secret")
    enc_response = server.seal(h("response"), nonce=h("response_nonce"))
    assert enc_response == h("encapsulated_response")
    assert client.open(enc_response) == h("response")


def test_intermediate_values() -> None:
    kdf = hpke.KDF.HKDF_SHA256
    assert h("ephemeral_pk") + h("response_nonce") == h("salt")
    prk = kdf.extract(h("salt"), h("exported_secret"))
    assert prk == h("prk")
    assert kdf.expand(prk, b"key", 16) == h("aead_key")
    assert kdf.expand(prk, b"nonce", 12) == h("aead_nonce")
    assert b"message/bhttp request\x00" + h("encapsulated_request")[:7] == h("info")


def test_rfc_request_decapsulates_among_rotated_keys() -> None:
    others = [ohttp.ServerKey.generate(k) for k in (0, 2, 3)]
    request, server = ohttp.decapsulate_request([*others, _server_key()], h("encapsulated_request"))
    assert request == h("request")
    assert server.seal(h("response"), nonce=h("response_nonce")) == h("encapsulated_response")
