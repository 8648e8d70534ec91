"""draft-ietf-ohai-chunked-ohttp-08 Appendix A, byte for byte (source: data/ohttp/SOURCES.md)."""

from __future__ import annotations

import pytest

from privproc import bhttp, hpke, ohttp, ohttp_chunked
from privproc.errors import OpenError, TruncatedError
from tests._vectors import load_json

V = load_json("ohttp", "chunked-ohttp-08-appendix-a.json")


def h(name: str) -> bytes:
    return bytes.fromhex(V[name])


def parts(name: str) -> list[bytes]:
    return [bytes.fromhex(p) for p in V[name]]


def _server_key() -> ohttp.ServerKey:
    return ohttp.ServerKey(ohttp.KeyConfig.decode(h("key_config")), h("server_sk"))


def _pieces(data: bytes, sizes: list[int]) -> list[bytes]:
    out, at = [], 0
    for n in sizes:
        out.append(data[at : at + n])
        at += n
    assert at == len(data)
    return out


def _client() -> tuple[ohttp_chunked.ChunkedRequestSender, ohttp_chunked.ChunkedResponseReceiver]:
    config = ohttp.KeyConfig.decode(h("key_config"))
    return ohttp_chunked.encapsulate_chunked_request(
        config, kdf=hpke.KDF(V["kdf_id"]), aead=hpke.AEAD(V["aead_id"]), sk_e=h("ephemeral_sk")
    )


def test_request_exact_bytes_chunk_by_chunk() -> None:
    assert hpke.KEM.X25519.public_key(h("ephemeral_sk")) == h("ephemeral_pk")
    sender, _ = _client()
    *middle, last = _pieces(h("request"), V["request_chunk_sizes"])
    hdr, enc, *chunks = parts("encapsulated_request_parts")
    wire = [sender.seal(middle[0]), *(sender.seal(p) for p in middle[1:]), sender.finish(last)]
    assert wire == [hdr + enc + chunks[0], *chunks[1:-1], chunks[-1]]
    assert b"message/bhttp chunked request\x00" + hdr == h("info")


def test_response_exact_bytes_chunk_by_chunk() -> None:
    receiver = ohttp_chunked.ChunkedRequestReceiver(_server_key())
    receiver.feed(b"".join(parts("encapsulated_request_parts")))
    assert receiver.end() == b""
    sender = receiver.response_sender(nonce=h("response_nonce"))
    *middle, last = _pieces(h("response"), V["response_chunk_sizes"])
    nonce, *chunks = parts("encapsulated_response_parts")
    wire = [sender.seal(middle[0]), *(sender.seal(p) for p in middle[1:]), sender.finish(last)]
    assert wire == [nonce + chunks[0], *chunks[1:-1], chunks[-1]]


def test_draft_request_opens_one_byte_at_a_time() -> None:
    receiver = ohttp_chunked.ChunkedRequestReceiver(_server_key())
    got: list[bytes] = []
    for byte in b"".join(parts("encapsulated_request_parts")):
        got.extend(receiver.feed(bytes([byte])))
    got.append(receiver.end())
    assert got == _pieces(h("request"), V["request_chunk_sizes"])
    assert receiver.complete


def test_draft_response_opens_one_byte_at_a_time() -> None:
    _, client = _client()
    got: list[bytes] = []
    for byte in b"".join(parts("encapsulated_response_parts")):
        got.extend(client.feed(bytes([byte])))
    got.append(client.end())
    assert got == _pieces(h("response"), V["response_chunk_sizes"])
    assert client.complete


def test_intermediate_values_and_chunk_nonces() -> None:
    kdf = hpke.KDF.HKDF_SHA256
    receiver = ohttp_chunked.ChunkedRequestReceiver(_server_key())
    receiver.feed(b"".join(parts("encapsulated_request_parts")))
    assert receiver._secret is not None
    assert receiver._secret.secret == h("exported_secret")
    assert h("ephemeral_pk") + h("response_nonce") == h("salt")
    prk = kdf.extract(h("salt"), h("exported_secret"))
    assert prk == h("prk")
    assert kdf.expand(prk, b"key", 16) == h("aead_key")
    base = kdf.expand(prk, b"nonce", 12)
    assert base == h("aead_nonce")
    nonces = [(int.from_bytes(base, "big") ^ i).to_bytes(12, "big") for i in range(3)]
    assert [n.hex() for n in nonces] == V["chunk_nonces"]


def test_draft_truncated_and_reordered_are_refused() -> None:
    """The draft's own request without its final chunk, and with its chunks swapped."""
    hdr, enc, c1, c2, final = parts("encapsulated_request_parts")
    receiver = ohttp_chunked.ChunkedRequestReceiver(_server_key())
    assert receiver.feed(hdr + enc + c1 + c2) == _pieces(h("request"), [12, 13])
    with pytest.raises(TruncatedError):
        receiver.end()
    receiver = ohttp_chunked.ChunkedRequestReceiver(_server_key())
    with pytest.raises(OpenError):
        receiver.feed(hdr + enc + c2 + c1 + final)
    # the last non-final chunk presented as the final one: its AAD was empty, not "final"
    receiver = ohttp_chunked.ChunkedRequestReceiver(_server_key())
    receiver.feed(hdr + enc + c1 + b"\x00" + c2[1:])
    with pytest.raises(OpenError):
        receiver.end()


def test_draft_messages_are_binary_http() -> None:
    request = bhttp.decode_request(h("request"))
    assert (request.method, request.scheme, request.authority, request.path) == (
        "GET",
        "https",
        "example.com",
        "/",
    )
    assert bhttp.decode_response(h("response")).status == 200
