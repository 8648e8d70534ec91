"""bhttp properties: round trips in both framings; hostile bytes give DecodeError or a message."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from privproc.bhttp import (
    Fields,
    Framing,
    Informational,
    Request,
    Response,
    decode,
    encode,
)
from privproc.errors import DecodeError

_TCHAR = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyz"
_VALUE_BYTES = [0x09, *range(0x20, 0x7F), *range(0x80, 0x100)]

names = st.text(alphabet=_TCHAR, min_size=1, max_size=12).map(str.encode)
values = (
    st.lists(st.sampled_from(_VALUE_BYTES), max_size=20).map(bytes).map(lambda b: b.strip(b" \t"))
)
fields: st.SearchStrategy[Fields] = st.lists(st.tuples(names, values), max_size=5).map(tuple)
content = st.binary(max_size=200)
framings: st.SearchStrategy[Framing] = st.sampled_from(["known", "indeterminate"])

requests = st.builds(
    Request,
    method=st.text(alphabet=_TCHAR.upper() + _TCHAR, min_size=1, max_size=8),
    scheme=st.sampled_from(["https", "http"]),
    authority=st.sampled_from(["", "example.com", "gateway.example:8443", "[::1]"]),
    path=st.text(alphabet="abcdefz0129/?=&%-._~", max_size=20).map(lambda p: "/" + p),
    headers=fields,
    content=content,
    trailers=fields,
)
responses = st.builds(
    Response,
    status=st.integers(200, 599),
    headers=fields,
    content=content,
    trailers=fields,
    informational=st.lists(
        st.builds(Informational, status=st.integers(100, 199), headers=fields), max_size=3
    ).map(tuple),
)
messages = st.one_of(requests, responses)


@given(messages, framings, st.integers(0, 20), st.booleans())
def test_round_trip(
    msg: Request | Response, framing: Framing, padding: int, truncate: bool
) -> None:
    data = encode(msg, framing=framing, padding=padding, truncate=truncate)
    assert decode(data) == msg


def _decodes_or_refuses(data: bytes) -> None:
    """The only outcomes: DecodeError, or a valid message that survives a round trip."""
    try:
        msg = decode(data)
    except DecodeError:
        return
    assert isinstance(msg, Request | Response)
    for framing in ("known", "indeterminate"):
        assert decode(encode(msg, framing=framing)) == msg


@given(st.binary(max_size=300))
def test_random_bytes(data: bytes) -> None:
    _decodes_or_refuses(data)


@given(st.sampled_from(range(4)), st.binary(max_size=300))
def test_random_bytes_after_valid_framing(indicator: int, rest: bytes) -> None:
    _decodes_or_refuses(bytes([indicator]) + rest)


@given(messages, framings, st.data())
def test_truncated(msg: Request | Response, framing: Framing, data: st.DataObject) -> None:
    encoded = encode(msg, framing=framing)
    cut = data.draw(st.integers(0, len(encoded)))
    _decodes_or_refuses(encoded[:cut])


@given(messages, framings, st.data())
def test_bit_flipped(msg: Request | Response, framing: Framing, data: st.DataObject) -> None:
    encoded = bytearray(encode(msg, framing=framing))
    for _ in range(data.draw(st.integers(1, 3))):
        bit = data.draw(st.integers(0, len(encoded) * 8 - 1))
        encoded[bit // 8] ^= 1 << (bit % 8)
    _decodes_or_refuses(bytes(encoded))
