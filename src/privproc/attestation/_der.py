"""The two DER shapes vendor certificate extensions use for TCB values.

AMD's VCEK (KDS spec 57230, "VCEK Certificate Extensions") carries each SPL as
a DER INTEGER and the hardware id as raw octets; the simulated platform does the
same. Only non-negative integers of up to 8 bytes are accepted.
"""

from __future__ import annotations

from privproc.errors import DecodeError, MisuseError

__all__ = ["decode_small_int", "encode_small_int"]


def decode_small_int(der: bytes) -> int:
    """Decode a DER INTEGER (tag 0x02, short-form length, 1..9 content bytes, >= 0)."""
    if len(der) < 3 or der[0] != 0x02 or der[1] != len(der) - 2 or der[1] > 9:
        raise DecodeError("extension: not a small DER INTEGER")
    content = der[2:]
    if content[0] & 0x80:
        raise DecodeError("extension: negative INTEGER")
    if len(content) > 1 and content[0] == 0 and not content[1] & 0x80:
        raise DecodeError("extension: non-minimal INTEGER")
    return int.from_bytes(content, "big")


def encode_small_int(value: int) -> bytes:
    """Encode a non-negative integer below 2^63 as a DER INTEGER."""
    if not 0 <= value < 1 << 63:
        raise MisuseError("value out of range for a small DER INTEGER")
    content = value.to_bytes(value.bit_length() // 8 + 1, "big")
    return bytes([0x02, len(content)]) + content
