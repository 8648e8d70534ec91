"""Bounded byte reader and writer for the wire formats privproc speaks.

Fixed-width big-endian integers (RFC 8446 §3.3 presentation language), QUIC
variable-length integers (RFC 9000 §16) and length-prefixed fields. The reader
never reads past its buffer and raises only :class:`~privproc.errors.DecodeError`;
the writer raises :class:`~privproc.errors.MisuseError` for values that do not fit.
"""

from __future__ import annotations

from privproc.errors import DecodeError, MisuseError

__all__ = ["MAX_VARINT", "Reader", "Writer", "varint_size"]

#: The largest value a QUIC varint carries (RFC 9000 §16: 62 bits).
MAX_VARINT = (1 << 62) - 1


def _as_bytes(data: object, what: str) -> bytes:
    # bytes(n) of an int is n zero bytes, and bytes(s) of a str a TypeError: refuse both.
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise MisuseError(f"{what} takes bytes, not {type(data).__name__}")


def varint_size(value: int) -> int:
    """Bytes a QUIC varint needs for ``value`` (RFC 9000 §16, Table 4)."""
    if value < 0 or value > MAX_VARINT:
        raise MisuseError(f"varint out of range: {value}")
    if value < 1 << 6:
        return 1
    if value < 1 << 14:
        return 2
    if value < 1 << 30:
        return 4
    return 8


class Reader:
    """Reads fields from an immutable buffer, refusing to read past its end."""

    __slots__ = ("_buf", "_pos")

    def __init__(self, data: bytes | bytearray | memoryview) -> None:
        self._buf = memoryview(_as_bytes(data, "Reader"))
        self._pos = 0

    @property
    def position(self) -> int:
        """Bytes consumed so far."""
        return self._pos

    @property
    def remaining(self) -> int:
        """Bytes not yet consumed."""
        return len(self._buf) - self._pos

    def at_end(self) -> bool:
        """True when every byte has been consumed."""
        return self._pos == len(self._buf)

    def expect_end(self, what: str = "message") -> None:
        """Raise DecodeError if bytes remain."""
        if not self.at_end():
            raise DecodeError(f"{what}: {self.remaining} trailing bytes")

    def read_bytes(self, n: int, what: str = "field") -> bytes:
        """Read exactly ``n`` bytes."""
        if n < 0:
            raise DecodeError(f"{what}: negative length")
        if n > self.remaining:
            raise DecodeError(f"{what}: truncated (need {n} bytes, have {self.remaining})")
        out = bytes(self._buf[self._pos : self._pos + n])
        self._pos += n
        return out

    def read_rest(self) -> bytes:
        """Read every remaining byte."""
        return self.read_bytes(self.remaining)

    def peek_uint8(self, what: str = "field") -> int:
        """Return the next byte without consuming it."""
        if self.remaining < 1:
            raise DecodeError(f"{what}: truncated (need 1 byte, have 0)")
        return self._buf[self._pos]

    def _read_uint(self, n: int, what: str) -> int:
        return int.from_bytes(self.read_bytes(n, what), "big")

    def read_uint8(self, what: str = "uint8") -> int:
        """Read a 1-byte unsigned integer."""
        return self._read_uint(1, what)

    def read_uint16(self, what: str = "uint16") -> int:
        """Read a 2-byte big-endian unsigned integer."""
        return self._read_uint(2, what)

    def read_uint24(self, what: str = "uint24") -> int:
        """Read a 3-byte big-endian unsigned integer."""
        return self._read_uint(3, what)

    def read_uint32(self, what: str = "uint32") -> int:
        """Read a 4-byte big-endian unsigned integer."""
        return self._read_uint(4, what)

    def read_uint64(self, what: str = "uint64") -> int:
        """Read an 8-byte big-endian unsigned integer."""
        return self._read_uint(8, what)

    def read_varint(self, what: str = "varint") -> int:
        """Read a QUIC variable-length integer (RFC 9000 §16).

        Non-minimal encodings are accepted, as RFC 9000 §16 permits.
        """
        first = self.peek_uint8(what)
        length = 1 << (first >> 6)
        raw = self.read_bytes(length, what)
        return int.from_bytes(bytes([raw[0] & 0x3F]) + raw[1:], "big")

    def read_vec(self, prefix: int, what: str = "vector", *, max_len: int | None = None) -> bytes:
        """Read a field prefixed by a ``prefix``-byte big-endian length."""
        n = self._read_uint(prefix, f"{what} length")
        if max_len is not None and n > max_len:
            raise DecodeError(f"{what}: length {n} over limit {max_len}")
        return self.read_bytes(n, what)

    def read_varint_vec(self, what: str = "vector", *, max_len: int | None = None) -> bytes:
        """Read a field prefixed by a QUIC varint length (RFC 9292 §3)."""
        n = self.read_varint(f"{what} length")
        if max_len is not None and n > max_len:
            raise DecodeError(f"{what}: length {n} over limit {max_len}")
        return self.read_bytes(n, what)


class Writer:
    """Accumulates fields; ``getvalue()`` returns the bytes."""

    __slots__ = ("_parts",)

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def getvalue(self) -> bytes:
        """The bytes written so far."""
        return b"".join(self._parts)

    def write_bytes(self, data: bytes | bytearray | memoryview) -> Writer:
        """Append raw bytes."""
        self._parts.append(_as_bytes(data, "Writer.write_bytes"))
        return self

    def _write_uint(self, value: int, n: int) -> Writer:
        if value < 0 or value >= 1 << (8 * n):
            raise MisuseError(f"value {value} does not fit in {n} bytes")
        self._parts.append(value.to_bytes(n, "big"))
        return self

    def write_uint8(self, value: int) -> Writer:
        """Append a 1-byte unsigned integer."""
        return self._write_uint(value, 1)

    def write_uint16(self, value: int) -> Writer:
        """Append a 2-byte big-endian unsigned integer."""
        return self._write_uint(value, 2)

    def write_uint24(self, value: int) -> Writer:
        """Append a 3-byte big-endian unsigned integer."""
        return self._write_uint(value, 3)

    def write_uint32(self, value: int) -> Writer:
        """Append a 4-byte big-endian unsigned integer."""
        return self._write_uint(value, 4)

    def write_uint64(self, value: int) -> Writer:
        """Append an 8-byte big-endian unsigned integer."""
        return self._write_uint(value, 8)

    def write_varint(self, value: int) -> Writer:
        """Append a minimal QUIC variable-length integer (RFC 9000 §16)."""
        size = varint_size(value)
        prefix = {1: 0x00, 2: 0x40, 4: 0x80, 8: 0xC0}[size]
        raw = bytearray(value.to_bytes(size, "big"))
        raw[0] |= prefix
        self._parts.append(bytes(raw))
        return self

    def write_vec(self, prefix: int, data: bytes) -> Writer:
        """Append ``data`` prefixed by a ``prefix``-byte big-endian length."""
        self._write_uint(len(data), prefix)
        return self.write_bytes(data)

    def write_varint_vec(self, data: bytes) -> Writer:
        """Append ``data`` prefixed by a QUIC varint length (RFC 9292 §3)."""
        self.write_varint(len(data))
        return self.write_bytes(data)
