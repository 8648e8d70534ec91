"""privproc.bhttp incremental responses (RFC 9292 §3.2): encoded piece by piece, decoded
as the bytes arrive."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privproc import bhttp
from privproc.errors import DecodeError, TruncatedError

HEADERS = ((b"content-type", b"application/privproc-sealed-stream"),)


def _message(chunks: list[bytes]) -> bytes:
    return (
        bhttp.encode_response_head(200, HEADERS)
        + b"".join(bhttp.encode_chunk(c) for c in chunks)
        + bhttp.encode_end()
    )


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=300), max_size=8), st.integers(1, 50))
def test_pieces_decode_whole_and_incrementally(chunks: list[bytes], cut: int) -> None:
    wire = _message(chunks)
    whole = bhttp.decode_response(wire)  # the one-shot decoder agrees
    assert (whole.status, whole.headers, whole.content) == (200, HEADERS, b"".join(chunks))
    stream = bhttp.ResponseStream()
    got = b""
    for i in range(0, len(wire), cut):
        got += b"".join(stream.feed(wire[i : i + cut]))
    stream.end()
    assert got == b"".join(chunks)
    assert stream.head is not None
    assert stream.head.headers == HEADERS


def test_content_comes_out_before_its_chunk_is_whole() -> None:
    stream = bhttp.ResponseStream()
    wire = bhttp.encode_response_head(200, HEADERS) + bhttp.encode_chunk(b"abcdef")
    assert stream.feed(wire[:-3]) == [b"abc"]
    assert stream.feed(wire[-3:]) == [b"def"]


def test_one_shot_encoding_is_read_too() -> None:
    wire = bhttp.encode(bhttp.Response(422, HEADERS, b"problem"), framing="indeterminate")
    stream = bhttp.ResponseStream()
    assert b"".join(stream.feed(wire)) == b"problem"
    stream.end()


@pytest.mark.parametrize("drop", [2, 3, 7, 20, 40])
def test_truncated_message_is_refused(drop: int) -> None:
    """Ending before the Content Terminator is refused; only the trailers may be cut (§3.8)."""
    wire = _message([b"hello", b"world"])
    stream = bhttp.ResponseStream()
    stream.feed(wire[: len(wire) - drop])
    with pytest.raises(TruncatedError):
        stream.end()
    cut = bhttp.ResponseStream()
    cut.feed(wire[:-1])  # the empty trailer section truncated away
    cut.end()


def test_bad_bytes_are_refused() -> None:
    with pytest.raises(DecodeError, match="indeterminate"):
        bhttp.ResponseStream().feed(bhttp.encode(bhttp.Response(200)))  # known-length
    with pytest.raises(DecodeError, match="not final"):
        bhttp.ResponseStream().feed(b"\x03\x40\x64\x00")  # 100 Continue
    stream = bhttp.ResponseStream()
    stream.feed(_message([b"x"]) + b"\x01")
    with pytest.raises(DecodeError):
        stream.end()
