"""_wire: bounded reads, RFC 9000 §16 varints, and only DecodeError on bad input."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc._wire import MAX_VARINT, Reader, Writer, varint_size
from privproc.errors import DecodeError, MisuseError

# RFC 9000 Appendix A.1 sample varint encodings.
RFC9000_VARINTS = [
    (bytes.fromhex("c2197c5eff14e88c"), 151288809941952652),
    (bytes.fromhex("9d7f3e7d"), 494878333),
    (bytes.fromhex("7bbd"), 15293),
    (bytes.fromhex("25"), 37),
    (bytes.fromhex("4025"), 37),  # non-minimal, accepted on read
]


@pytest.mark.parametrize(("encoded", "value"), RFC9000_VARINTS)
def test_rfc9000_varint_samples(encoded: bytes, value: int) -> None:
    r = Reader(encoded)
    assert r.read_varint() == value
    r.expect_end()


@pytest.mark.parametrize(("encoded", "value"), RFC9000_VARINTS[:4])
def test_varint_writes_minimal(encoded: bytes, value: int) -> None:
    assert Writer().write_varint(value).getvalue() == encoded


@given(st.integers(min_value=0, max_value=MAX_VARINT))
def test_varint_round_trip(value: int) -> None:
    data = Writer().write_varint(value).getvalue()
    assert len(data) == varint_size(value)
    assert Reader(data).read_varint() == value


def test_varint_out_of_range_is_misuse() -> None:
    with pytest.raises(MisuseError):
        Writer().write_varint(MAX_VARINT + 1)
    with pytest.raises(MisuseError):
        Writer().write_varint(-1)


def test_fixed_ints_and_vectors_round_trip() -> None:
    w = Writer().write_uint8(1).write_uint16(2).write_uint24(3).write_uint32(4).write_uint64(5)
    w.write_vec(2, b"abc").write_varint_vec(b"defg")
    r = Reader(w.getvalue())
    assert [r.read_uint8(), r.read_uint16(), r.read_uint24(), r.read_uint32(), r.read_uint64()] == [
        1,
        2,
        3,
        4,
        5,
    ]
    assert r.read_vec(2) == b"abc"
    assert r.read_varint_vec() == b"defg"
    assert r.at_end()


def test_writer_refuses_overflow() -> None:
    with pytest.raises(MisuseError):
        Writer().write_uint8(256)
    with pytest.raises(MisuseError):
        Writer().write_vec(1, b"x" * 256)


def test_truncation_and_limits_raise_decode_error() -> None:
    with pytest.raises(DecodeError, match="truncated"):
        Reader(b"\x00").read_uint16()
    with pytest.raises(DecodeError, match="over limit"):
        Reader(b"\x05hello").read_vec(1, max_len=4)
    with pytest.raises(DecodeError, match="trailing"):
        Reader(b"\x00\x00").expect_end()
    with pytest.raises(DecodeError):
        Reader(b"").read_varint()


@given(st.binary(max_size=64))
def test_any_bytes_give_decode_error_or_values(data: bytes) -> None:
    r = Reader(data)
    fields: list[bytes] = []
    try:
        while not r.at_end():
            fields.append(r.read_varint_vec(max_len=16))
    except DecodeError:
        assert r.position <= len(data)  # a refusal never reads past the buffer
        return
    # Every byte was consumed into fields, each no longer than the limit.
    assert all(len(f) <= 16 for f in fields)
    assert sum(len(f) for f in fields) <= len(data) == r.position


@pytest.mark.parametrize("value", [5, "abc", None, [1, 2]])
def test_non_bytes_are_misuse_not_zero_bytes(value: object) -> None:
    # bytes(5) is five zero bytes: a length passed by mistake must not become data.
    with pytest.raises(MisuseError):
        Reader(value)  # type: ignore[arg-type]
    with pytest.raises(MisuseError):
        Writer().write_bytes(value)  # type: ignore[arg-type]
    assert Reader(bytearray(b"\x01")).read_uint8() == 1
    assert Writer().write_bytes(memoryview(b"ab")).getvalue() == b"ab"
