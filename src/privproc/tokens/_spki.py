"""The RSASSA-PSS SubjectPublicKeyInfo of a Privacy Pass token key (RFC 9578 §6.5).

``cryptography`` writes RSA keys only as rsaEncryption SPKI, but RFC 9578 §6.5 says
the token key is an SPKI whose algorithm is id-RSASSA-PSS with explicit parameters
(SHA-384, MGF1 with SHA-384, salt length 48; RFC 5756 §3, RFC 4055 §3.1). This
module writes that DER with a minimal encoder and reads it back with a bounded
reader that raises only :class:`~privproc.errors.DecodeError`.

The AlgorithmIdentifier is emitted exactly as in RFC 9578 Appendix A.2 (hash
AlgorithmIdentifiers without a NULL parameter). On input we also accept the form
with NULL parameters that some implementations emit; the token key id is the
SHA-256 of the SPKI bytes as received, so either form keeps its own id.
"""

from __future__ import annotations

from privproc.errors import DecodeError

_OID_RSASSA_PSS = bytes.fromhex("06092a864886f70d01010a")
_OID_MGF1 = bytes.fromhex("06092a864886f70d010108")
_OID_SHA384 = bytes.fromhex("0609608648016503040202")
_NULL = bytes.fromhex("0500")

_MAX_DER = 4096


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, body: bytes) -> bytes:
    return bytes([tag]) + _len(len(body)) + body


def _seq(*parts: bytes) -> bytes:
    return _tlv(0x30, b"".join(parts))


def _uint(x: int) -> bytes:
    raw = x.to_bytes(x.bit_length() // 8 + 1, "big")  # leading 0x00 keeps it positive
    return _tlv(0x02, raw)


def _pss_params(*, with_null: bool) -> bytes:
    sha384 = _seq(_OID_SHA384, _NULL) if with_null else _seq(_OID_SHA384)
    return _seq(
        _tlv(0xA0, sha384),
        _tlv(0xA1, _seq(_OID_MGF1, sha384)),
        _tlv(0xA2, _uint(48)),
    )


#: The AlgorithmIdentifier RFC 9578 Appendix A.2 uses, and the NULL-parameter form.
_ALG_IDS = (
    _seq(_OID_RSASSA_PSS, _pss_params(with_null=False)),
    _seq(_OID_RSASSA_PSS, _pss_params(with_null=True)),
)


def encode_spki(n: int, e: int) -> bytes:
    """DER SubjectPublicKeyInfo, id-RSASSA-PSS with SHA-384 parameters (RFC 9578 §6.5)."""
    rsa_public_key = _seq(_uint(n), _uint(e))  # RFC 8017 Appendix A.1.1
    bit_string = _tlv(0x03, b"\x00" + rsa_public_key)
    return _seq(_ALG_IDS[0], bit_string)


class _Der:
    """A bounded DER reader (definite lengths only)."""

    __slots__ = ("_buf", "_pos")

    def __init__(self, buf: bytes) -> None:
        self._buf = buf
        self._pos = 0

    def at_end(self) -> bool:
        return self._pos == len(self._buf)

    def read(self, tag: int, what: str) -> tuple[bytes, bytes]:
        """Read one TLV with ``tag``; return (the whole TLV, its body)."""
        start = self._pos
        if self._pos + 2 > len(self._buf):
            raise DecodeError(f"token key: {what} truncated")
        if self._buf[self._pos] != tag:
            raise DecodeError(f"token key: {what}: unexpected tag {self._buf[self._pos]:#x}")
        first = self._buf[self._pos + 1]
        self._pos += 2
        if first < 0x80:
            length = first
        else:
            nbytes = first & 0x7F
            if nbytes == 0 or nbytes > 2 or self._pos + nbytes > len(self._buf):
                raise DecodeError(f"token key: {what}: bad length")
            length = int.from_bytes(self._buf[self._pos : self._pos + nbytes], "big")
            if length < 0x80 or (nbytes == 2 and length < 0x100):
                raise DecodeError(f"token key: {what}: non-minimal length")
            self._pos += nbytes
        if self._pos + length > len(self._buf):
            raise DecodeError(f"token key: {what} truncated")
        body = self._buf[self._pos : self._pos + length]
        self._pos += length
        return self._buf[start : self._pos], body


def _read_uint(der: _Der, what: str) -> int:
    _, body = der.read(0x02, what)
    if not body or body[0] & 0x80:
        raise DecodeError(f"token key: {what} is not a positive integer")
    if len(body) > 1 and body[0] == 0 and not body[1] & 0x80:
        raise DecodeError(f"token key: {what} is not minimally encoded")
    return int.from_bytes(body, "big")


def decode_spki(data: bytes) -> tuple[int, int]:
    """Read (n, e) from an RSASSA-PSS SPKI; refuses any other algorithm or parameters."""
    if len(data) > _MAX_DER:
        raise DecodeError("token key: too long")
    outer = _Der(bytes(data))
    _, spki = outer.read(0x30, "SubjectPublicKeyInfo")
    if not outer.at_end():
        raise DecodeError("token key: trailing bytes")
    inner = _Der(spki)
    alg, _ = inner.read(0x30, "AlgorithmIdentifier")
    if alg not in _ALG_IDS:
        raise DecodeError("token key: not id-RSASSA-PSS with SHA-384, MGF1-SHA-384, salt 48")
    _, bits = inner.read(0x03, "subjectPublicKey")
    if not inner.at_end():
        raise DecodeError("token key: trailing bytes in SubjectPublicKeyInfo")
    if not bits or bits[0] != 0:
        raise DecodeError("token key: BIT STRING with unused bits")
    key = _Der(bits[1:])
    _, rsa_key = key.read(0x30, "RSAPublicKey")
    if not key.at_end():
        raise DecodeError("token key: trailing bytes after RSAPublicKey")
    fields = _Der(rsa_key)
    n = _read_uint(fields, "modulus")
    e = _read_uint(fields, "publicExponent")
    if not fields.at_end():
        raise DecodeError("token key: trailing bytes in RSAPublicKey")
    return n, e
