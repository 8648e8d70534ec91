"""privproc.ohttp_chunked: incremental round trips, truncation, reordering, limits, fuzzing."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privproc import bhttp, hpke, ohttp
from privproc import ohttp_chunked as oc
from privproc._wire import Writer
from privproc.errors import (
    CryptoError,
    DecodeError,
    MisuseError,
    OpenError,
    PeerError,
    TruncatedError,
    UnknownKeyError,
    UnsupportedError,
)
from privproc.limits import OHTTP_CHUNK_SIZE

KEY = ohttp.ServerKey.derive(7, b"privproc chunked ohttp unit test!")
P256_KEY = ohttp.ServerKey.generate(
    11,
    kem=hpke.KEM.P256,
    suites=[ohttp.SymmetricSuite(hpke.KDF.HKDF_SHA384, hpke.AEAD.AES_256_GCM)],
)
TAG = 16


def _splits(data: bytes, cuts: list[int]) -> list[bytes]:
    """``data`` cut at the given offsets (any order, repeats allowed: empty pieces too)."""
    points = sorted({0, len(data), *(c % (len(data) + 1) for c in cuts)})
    pieces = [data[a:b] for a, b in itertools.pairwise(points)]
    return pieces + [b""] * (len(cuts) % 3)


def _feed_all(
    receiver: oc.ChunkedRequestReceiver | oc.ChunkedResponseReceiver, pieces: list[bytes]
) -> list[bytes]:
    out: list[bytes] = []
    for piece in pieces:
        out.extend(receiver.feed(piece))
    out.append(receiver.end())
    return out


def _exchange(
    request_parts: list[bytes],
    *,
    key: ohttp.ServerKey = KEY,
    aead: hpke.AEAD | None = None,
    chunk_size: int = OHTTP_CHUNK_SIZE,
) -> tuple[bytes, oc.ChunkedRequestReceiver, oc.ChunkedResponseReceiver]:
    """Seal ``request_parts`` (each a seal() call, the last one via finish())."""
    sender, client = oc.encapsulate_chunked_request(key.config, aead=aead, chunk_size=chunk_size)
    wire = b"".join(sender.seal(p) for p in request_parts[:-1]) + sender.finish(request_parts[-1])
    assert sender.finished
    return wire, oc.ChunkedRequestReceiver(key, chunk_size=chunk_size), client


def _response(
    receiver: oc.ChunkedRequestReceiver, parts: list[bytes], chunk_size: int = OHTTP_CHUNK_SIZE
) -> bytes:
    sender = receiver.response_sender(chunk_size=chunk_size)
    return b"".join(sender.seal(p) for p in parts[:-1]) + sender.finish(parts[-1])


def _chunks(wire: bytes, header_len: int) -> tuple[bytes, list[bytes], bytes]:
    """Split wire bytes into (header, non-final framed chunks, final framed chunk)."""
    from privproc._wire import Reader

    r = Reader(wire[header_len:])
    framed: list[bytes] = []
    while True:
        start = r.position
        n = r.read_varint()
        if n == 0:
            return wire[:header_len], framed, wire[header_len + start :]
        r.read_bytes(n)
        framed.append(wire[header_len + start : header_len + r.position])


REQ_HDR = 7 + 32  # X25519: key id, suite ids, enc
RES_HDR = 16  # max(Nn, Nk) for AES-128-GCM


@pytest.mark.parametrize(
    ("key", "aead"),
    [
        (KEY, None),
        (KEY, hpke.AEAD.CHACHA20_POLY1305),
        (KEY, hpke.AEAD.AES_256_GCM),
        (P256_KEY, None),
    ],
    ids=["x25519-aes128", "x25519-chacha", "x25519-aes256", "p256-sha384-aes256"],
)
def test_round_trip_each_suite(key: ohttp.ServerKey, aead: hpke.AEAD | None) -> None:
    wire, server, client = _exchange([b"first ", b"second ", b"last"], key=key, aead=aead)
    assert server.feed(wire) == [b"first ", b"second "]
    assert server.end() == b"last"
    assert server.complete
    res = _response(server, [b"a", b"bc", b""])
    assert client.feed(res) == [b"a", b"bc"]
    assert client.end() == b""
    assert client.complete


@settings(max_examples=60, deadline=None)
@given(
    request=st.lists(st.binary(max_size=300), min_size=1, max_size=6),
    response=st.lists(st.binary(max_size=300), min_size=1, max_size=6),
    chunk_size=st.integers(1, 64),
    cuts=st.lists(st.integers(0, 10_000), max_size=12),
)
def test_round_trip_under_arbitrary_splits(
    request: list[bytes], response: list[bytes], chunk_size: int, cuts: list[int]
) -> None:
    """Whatever the plaintext pieces, chunk size and the cuts of the wire bytes, the
    receiver returns the plaintext, in order, no chunk over ``chunk_size``."""
    wire, server, client = _exchange(request, chunk_size=chunk_size)
    got = _feed_all(server, _splits(wire, cuts))
    assert b"".join(got) == b"".join(request)
    assert all(0 < len(c) <= chunk_size for c in got[:-1])
    assert len(got[-1]) <= chunk_size
    res = _response(server, response, chunk_size)
    got = _feed_all(client, _splits(res, cuts))
    assert b"".join(got) == b"".join(response)


def test_each_chunk_comes_out_as_soon_as_it_is_whole() -> None:
    wire, server, client = _exchange([b"one", b"two", b"three"])
    hdr, framed, final = _chunks(wire, REQ_HDR)
    assert server.feed(hdr) == []
    assert server.has_header
    assert server.feed(framed[0][:-1]) == []
    assert server.feed(framed[0][-1:]) == [b"one"]
    # the gateway may answer before the request is complete (draft §7.2)
    res = server.response_sender()
    assert client.feed(res.seal(b"early")) == [b"early"]
    assert server.feed(framed[1] + final) == [b"two"]
    assert server.end() == b"three"
    assert client.feed(res.finish(b"done")) == []
    assert client.end() == b"done"


def test_large_message_uses_default_chunk_size() -> None:
    body = bytes(range(256)) * 200  # 51200 bytes: three full chunks and a short final one
    wire, server, _ = _exchange([body])
    _, framed, final = _chunks(wire, REQ_HDR)
    # 16400 bytes need a 4-byte varint (RFC 9000 §16)
    assert [len(f) for f in framed] == [4 + OHTTP_CHUNK_SIZE + TAG] * 3
    assert len(final) == 1 + len(body) - 3 * OHTTP_CHUNK_SIZE + TAG
    got = _feed_all(server, [wire])
    assert got[:3] == [
        body[i : i + OHTTP_CHUNK_SIZE] for i in range(0, 3 * OHTTP_CHUNK_SIZE, OHTTP_CHUNK_SIZE)
    ]
    assert b"".join(got) == body


def test_empty_message_and_empty_seal() -> None:
    sender, client = oc.encapsulate_chunked_request(KEY.config)
    hdr = sender.seal(b"")  # releases the header, seals nothing (draft §6)
    assert len(hdr) == REQ_HDR
    assert sender.seal(b"") == b""
    wire = hdr + sender.finish()
    assert len(wire) == REQ_HDR + 1 + TAG
    server = oc.ChunkedRequestReceiver(KEY)
    assert _feed_all(server, [wire]) == [b""]
    res = server.response_sender().finish()
    assert len(res) == RES_HDR + 1 + TAG
    assert _feed_all(client, [res]) == [b""]


@pytest.mark.parametrize("cut", ["header", "chunk", "before-final"])
def test_truncation_without_final_chunk_is_typed(cut: str) -> None:
    wire, server, _client = _exchange([b"alpha", b"beta", b"gamma"])
    hdr, framed, _ = _chunks(wire, REQ_HDR)
    prefix = {
        "header": hdr[:-3],
        "chunk": hdr + framed[0] + framed[1][:5],
        "before-final": hdr + framed[0] + framed[1],
    }[cut]
    server.feed(prefix)
    with pytest.raises(TruncatedError) as info:
        server.end()
    assert isinstance(info.value, DecodeError)
    assert info.value.code == "truncated"
    assert not server.complete


def test_every_truncation_of_a_response_is_refused() -> None:
    wire, server, _ = _exchange([b"q"])
    _feed_all(server, [wire])
    sender = server.response_sender(chunk_size=4)
    res = sender.seal(b"0123456789") + sender.finish(b"xyz")
    for n in range(len(res)):
        client = _client_for(server)
        client.feed(res[:n])
        with pytest.raises((TruncatedError, OpenError)):
            client.end()


def _client_for(server: oc.ChunkedRequestReceiver) -> oc.ChunkedResponseReceiver:
    """A client receiver holding the same response secret as ``server`` (tests only)."""
    assert server._secret is not None
    return oc.ChunkedResponseReceiver(server._secret, OHTTP_CHUNK_SIZE)


def test_reordered_replayed_dropped_chunks_fail_authentication() -> None:
    wire, _, _ = _exchange([b"c0", b"c1", b"c2", b"last"])
    hdr, framed, final = _chunks(wire, REQ_HDR)
    for bad in (
        [framed[1], framed[0], framed[2]],  # reordered
        [framed[0], framed[0], framed[1], framed[2]],  # replayed
        [framed[0], framed[2]],  # dropped
    ):
        server = oc.ChunkedRequestReceiver(KEY)
        with pytest.raises(OpenError):
            _feed_all(server, [hdr, *bad, final])
    # the final chunk moved up: its AAD is "final", so it cannot open as a non-final one
    server = oc.ChunkedRequestReceiver(KEY)
    server.feed(hdr)
    with pytest.raises(OpenError):
        server.feed(Writer().write_varint_vec(final[1:]).getvalue())


def test_response_chunks_reordered_or_from_another_response_fail() -> None:
    wire, server, client = _exchange([b"q"])
    _feed_all(server, [wire])
    sender = server.response_sender(chunk_size=2)
    res = sender.seal(b"aabbcc") + sender.finish(b"dd")
    hdr, framed, _final = _chunks(res, RES_HDR)
    with pytest.raises(OpenError):
        client.feed(hdr + framed[1] + framed[0])
    # a second response to the same request has a fresh nonce: its chunks do not mix in
    other = server.response_sender(chunk_size=2)
    res2 = other.seal(b"aabbcc") + other.finish(b"dd")
    _, framed2, _ = _chunks(res2, RES_HDR)
    c2 = _client_for(server)
    assert c2.feed(hdr + framed[0]) == [b"aa"]
    with pytest.raises(OpenError):
        c2.feed(framed2[1])


def test_a_failed_receiver_stays_failed() -> None:
    wire, server, _ = _exchange([b"c0", b"c1", b"last"])
    hdr, framed, _final = _chunks(wire, REQ_HDR)
    with pytest.raises(OpenError):
        server.feed(hdr + framed[1])
    with pytest.raises(MisuseError):
        server.feed(framed[0])
    with pytest.raises(MisuseError):
        server.end()
    with pytest.raises(MisuseError):
        server.response_sender()
    ok = oc.ChunkedRequestReceiver(KEY)
    _feed_all(ok, [wire])
    with pytest.raises(MisuseError):
        ok.feed(b"more")
    with pytest.raises(MisuseError):
        ok.end()


def test_empty_non_final_chunk_is_a_decryption_error() -> None:
    """Draft §6: "A receiver MUST treat the receipt of a chunk that contains no data as
    equivalent to a decryption error, unless that chunk is the final chunk"."""
    sender, client = oc.encapsulate_chunked_request(KEY.config)
    hdr = sender.seal(b"")
    empty = Writer().write_varint_vec(sender._seal_one(b"", b"")).getvalue()
    server = oc.ChunkedRequestReceiver(KEY)
    with pytest.raises(OpenError):
        server.feed(hdr + empty)
    ok = oc.ChunkedRequestReceiver(KEY)
    ok.feed(hdr)
    res = ok.response_sender()
    nonce = res.seal(b"")
    empty_res = Writer().write_varint_vec(res._seal_one(b"", b"")).getvalue()
    with pytest.raises(OpenError):
        client.feed(nonce + empty_res)


def test_non_minimal_length_prefixes_are_accepted() -> None:
    """Draft §6: the length prefixes are not authenticated; any varint size is the same."""
    wire, server, _ = _exchange([b"abc", b"defg", b"hi"])
    hdr, framed, final = _chunks(wire, REQ_HDR)
    long_form = [bytes([0x40 | 0]) + f[:1] + f[1:] for f in framed]  # 2-byte varints
    eight = bytes([0xC0, 0, 0, 0, 0, 0, 0, 0])  # the zero length as an 8-byte varint
    assert _feed_all(server, [hdr, *long_form, eight + final[1:]]) == [b"abc", b"defg", b"hi"]


def test_limits_refuse_before_buffering() -> None:
    wire, _server, _ = _exchange([b"x" * 100, b"end"], chunk_size=100)
    hdr, framed, _final = _chunks(wire, REQ_HDR)
    small = oc.ChunkedRequestReceiver(KEY, chunk_size=99)
    with pytest.raises(DecodeError, match="over limit 115"):
        small.feed(hdr + framed[0][:2])  # only the length prefix: refused at once
    huge = oc.ChunkedRequestReceiver(KEY)
    with pytest.raises(DecodeError, match="over limit"):
        huge.feed(hdr + Writer().write_varint(1 << 40).getvalue())
    final_too_long = oc.ChunkedRequestReceiver(KEY, chunk_size=8)
    with pytest.raises(DecodeError, match="final chunk over limit"):
        final_too_long.feed(hdr + b"\x00" + bytes(8 + TAG + 1))
    # the draft's MUST: a 2^14-byte chunk is taken by default
    assert OHTTP_CHUNK_SIZE == 16384


def test_header_is_checked_as_soon_as_it_arrives() -> None:
    wire, _, _ = _exchange([b"q"])
    other = ohttp.ServerKey.generate(KEY.config.key_id + 1)
    with pytest.raises(UnknownKeyError):
        oc.ChunkedRequestReceiver(other).feed(wire[:7])
    narrow = ohttp.ServerKey(
        ohttp.KeyConfig(
            KEY.config.key_id,
            KEY.config.kem,
            KEY.config.public_key,
            (ohttp.SymmetricSuite(1, 3),),
        ),
        KEY.private_key,
    )
    with pytest.raises(UnsupportedError):
        oc.ChunkedRequestReceiver(narrow).feed(wire[:7])
    # rotation: any active key
    assert _feed_all(oc.ChunkedRequestReceiver([other, KEY]), [wire]) == [b"q"]
    # a non-chunked request's bytes are not a chunked request (other HPKE info)
    plain, _ = ohttp.encapsulate_request(KEY.config, b"q")
    with pytest.raises((DecodeError, OpenError)):
        _feed_all(oc.ChunkedRequestReceiver(KEY), [plain])


def test_misuse_is_refused() -> None:
    sender, _ = oc.encapsulate_chunked_request(KEY.config)
    with pytest.raises(MisuseError):
        sender.seal("text")  # type: ignore[arg-type]
    sender.finish(b"x")
    with pytest.raises(MisuseError):
        sender.seal(b"y")
    with pytest.raises(MisuseError):
        sender.finish()
    with pytest.raises(MisuseError):
        oc.encapsulate_chunked_request(KEY.config, chunk_size=0)
    with pytest.raises(MisuseError):
        oc.encapsulate_chunked_request(KEY.config.encode())  # type: ignore[arg-type]
    with pytest.raises(MisuseError):
        oc.ChunkedRequestReceiver([KEY.config])  # type: ignore[list-item]
    server = oc.ChunkedRequestReceiver(KEY)
    with pytest.raises(MisuseError):
        server.response_sender()  # no header yet
    server.feed(_exchange([b"q"])[0])
    with pytest.raises(MisuseError):
        server.response_sender(nonce=b"short")
    with pytest.raises(MisuseError):
        server.feed("text")  # type: ignore[arg-type]
    assert oc.MEDIA_TYPE_CHUNKED_REQUEST == "message/ohttp-chunked-req"
    assert oc.MEDIA_TYPE_CHUNKED_RESPONSE == "message/ohttp-chunked-res"
    assert bytes.fromhex("66696e616c") == oc.FINAL_AAD


def test_every_single_byte_flip_fails() -> None:
    """Flip each byte of a request and of a response in turn: each one is refused
    (a header byte by the header checks, any other by authentication or framing)."""
    wire, server, _client = _exchange([b"abc", b"defgh", b"ij"], chunk_size=4)
    _feed_all(server, [wire])
    res = _response(server, [b"xyz", b"uvw"], chunk_size=2)
    for i in range(len(wire)):
        flipped = wire[:i] + bytes([wire[i] ^ 0x01]) + wire[i + 1 :]
        with pytest.raises((PeerError, CryptoError)):
            _feed_all(oc.ChunkedRequestReceiver(KEY, chunk_size=4), [flipped])
    for i in range(len(res)):
        flipped = res[:i] + bytes([res[i] ^ 0x80]) + res[i + 1 :]
        with pytest.raises((PeerError, CryptoError)):
            _feed_all(_client_for(server), [flipped])


@settings(max_examples=80, deadline=None)
@given(data=st.data())
def test_any_single_byte_change_fails_property(data: st.DataObject) -> None:
    request = data.draw(st.lists(st.binary(min_size=1, max_size=40), min_size=1, max_size=4))
    wire, _, _ = _exchange(request, chunk_size=16)
    i = data.draw(st.integers(0, len(wire) - 1))
    delta = data.draw(st.integers(1, 255))
    mutated = wire[:i] + bytes([wire[i] ^ delta]) + wire[i + 1 :]
    with pytest.raises((PeerError, CryptoError)):
        _feed_all(oc.ChunkedRequestReceiver(KEY, chunk_size=16), [mutated])


@settings(max_examples=150, deadline=None)
@given(
    body=st.binary(max_size=300), cuts=st.lists(st.integers(0, 400), max_size=5), end=st.booleans()
)
def test_random_bytes_into_receivers_typed(body: bytes, cuts: list[int], end: bool) -> None:
    """Fuzz: after a valid header (or none), any bytes cut anywhere raise only typed peer
    or crypto errors, from feed() or end()."""
    hdr = _exchange([b""])[0][:REQ_HDR]
    _, server, client = _exchange([b"q"])
    for receiver, prefix in ((oc.ChunkedRequestReceiver(KEY), hdr), (client, b""), (server, b"")):
        try:
            for piece in _splits(prefix + body, cuts):
                receiver.feed(piece)
            if end:
                receiver.end()
        except (PeerError, CryptoError):
            pass


def test_indeterminate_length_bhttp_inside() -> None:
    """RFC 9292 §3.2 inside chunked OHTTP (draft §1.1): chunks need not align with it."""
    request = bhttp.Request(
        "POST",
        "https",
        "node.example",
        "/v1/stream",
        ((b"content-type", b"text/plain"),),
        b"m" * 5000,
    )
    response = bhttp.Response(
        200,
        ((b"content-type", b"text/event-stream"),),
        b"token " * 900,
        ((b"x-done", b"1"),),
        (bhttp.Informational(103, ((b"link", b"</a>"),)),),
    )
    inner = bhttp.encode(request, framing="indeterminate")
    assert inner[0] == 2  # RFC 9292 §3.3: indeterminate-length request
    wire, server, client = _exchange([inner[:10], inner[10:1234], inner[1234:]], chunk_size=700)
    assert bhttp.decode_request(b"".join(_feed_all(server, [wire]))) == request
    inner_res = bhttp.encode(response, framing="indeterminate")
    assert inner_res[0] == 3
    res = _response(server, [inner_res[:3], inner_res[3:]], chunk_size=333)
    assert bhttp.decode_response(b"".join(_feed_all(client, [res]))) == response


CANARY = b"canary-chunked-plaintext-5e1f"


def test_no_plaintext_or_secret_in_reprs_and_errors() -> None:
    sender, client = oc.encapsulate_chunked_request(KEY.config)
    wire = sender.seal(CANARY) + sender.finish(CANARY)
    server = oc.ChunkedRequestReceiver(KEY)
    assert _feed_all(server, [wire]) == [CANARY, CANARY]
    res_sender = server.response_sender()
    res = res_sender.finish(CANARY)
    shown = " ".join(repr(v) + str(v) for v in (sender, client, server, res_sender))
    assert server._secret is not None
    for secret in (CANARY, KEY.private_key, server._secret.secret):
        assert secret.hex() not in shown
        assert repr(secret) not in shown
    messages = []
    truncated = oc.ChunkedRequestReceiver(KEY)
    truncated.feed(wire[: REQ_HDR + 5])
    for attempt in (
        lambda: _feed_all(oc.ChunkedRequestReceiver(KEY), [wire[:-1] + bytes([wire[-1] ^ 1])]),
        lambda: _feed_all(client, [res[:-1] + bytes([res[-1] ^ 1])]),
        truncated.end,
    ):
        with pytest.raises((PeerError, CryptoError)) as info:
            attempt()
        messages.append(str(info.value))
    assert messages[:2] == ["decryption failed"] * 2
    assert "final chunk" in messages[2]
    assert all(CANARY.decode() not in m for m in messages)
