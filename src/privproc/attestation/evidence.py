"""The evidence model every platform shares, and the key binding.

A node ships :class:`Evidence` in its node bundle (DESIGN.md, "One request",
step 2): the platform's signed report, the endorsements (certificates) that
chain the report's signing key to the hardware vendor, the node's HPKE public
key, a freshness value and the time the evidence was made.

The report's user-data field (SEV-SNP ``REPORT_DATA``, TDX ``REPORTDATA``, the
simulated platform's ``report_data``; 64 bytes everywhere) must equal
:func:`binding` of the node key and the freshness value, so evidence for one key
cannot be replayed for another, and old evidence cannot pass as new.

The freshness value starts with the evidence timestamp (:func:`freshness_value`),
optionally followed by a verifier-chosen nonce, so the timestamp the age check
reads is itself covered by the hardware signature.

Canonical encoding (all integers big-endian, :mod:`privproc._wire`)::

    struct {
        uint8  version = 1;
        uint16 platform;                       /* Platform */
        opaque report<1..2^24-1>;
        opaque endorsements<0..2^8-1> = { opaque cert<1..2^24-1>; } (count-prefixed)
        opaque node_key<1..2^16-1>;
        opaque freshness<8..255>;
        uint64 timestamp;                      /* seconds since the Unix epoch, UTC */
    } Evidence;
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives import hashes

from privproc._wire import Reader, Writer
from privproc.errors import DecodeError, MisuseError

__all__ = [
    "BINDING_SIZE",
    "ENCODING_VERSION",
    "Evidence",
    "Platform",
    "binding",
    "freshness_value",
    "timestamp_of",
]

#: Version byte of the canonical evidence encoding.
ENCODING_VERSION = 1
#: Size of a report's user-data field on every supported platform.
BINDING_SIZE = 64

_BINDING_LABEL = b"privproc attestation binding v1"
_MAX_REPORT = (1 << 24) - 1
_MAX_CERT = (1 << 24) - 1
_MAX_ENDORSEMENTS = 16
_MAX_KEY = (1 << 16) - 1
_MAX_FRESHNESS = 255
_TIMESTAMP_SIZE = 8


class Platform(enum.IntEnum):
    """Which hardware (or software simulation) produced the evidence."""

    #: privproc's software TEE for laptops and tests; trusted only when the
    #: verifier's policy names its vendor root.
    SIMULATED = 1
    #: AMD SEV-SNP (ABI spec 56860, ATTESTATION_REPORT).
    SEV_SNP = 2
    #: Intel TDX (DCAP quote v4; verified with dcap-qvl, docs/attestation.md).
    TDX = 3


def binding(node_key: bytes, freshness: bytes) -> bytes:
    """The 64 bytes a report's user-data field must hold for ``node_key`` and ``freshness``.

    SHA-512 over a domain-separated, length-prefixed encoding::

        uint8 len(label) || label || uint16 len(node_key) || node_key
                         || uint16 len(freshness) || freshness

    with label ``"privproc attestation binding v1"``. Length prefixes make the
    split between key and freshness unambiguous.
    """
    if not isinstance(node_key, bytes) or not isinstance(freshness, bytes):
        raise MisuseError("binding() takes bytes")
    if not 1 <= len(node_key) <= _MAX_KEY or len(freshness) > _MAX_KEY:
        raise MisuseError("binding(): node_key or freshness has an impossible length")
    w = Writer().write_vec(1, _BINDING_LABEL).write_vec(2, node_key).write_vec(2, freshness)
    digest = hashes.Hash(hashes.SHA512())
    digest.update(w.getvalue())
    return digest.finalize()


def _epoch(ts: datetime) -> int:
    if ts.tzinfo is None:
        raise MisuseError("timestamps must be timezone-aware (UTC)")
    seconds = int(ts.timestamp())
    if not 0 <= seconds < 1 << 64:
        raise MisuseError("timestamp out of range")
    return seconds


def freshness_value(timestamp: datetime, nonce: bytes = b"") -> bytes:
    """The freshness value for evidence made at ``timestamp``: uint64 seconds || nonce.

    ``nonce`` is what an interactive verifier asked for (empty for evidence
    published in a node bundle); at most 247 bytes.
    """
    if len(nonce) > _MAX_FRESHNESS - _TIMESTAMP_SIZE:
        raise MisuseError("nonce too long")
    return _epoch(timestamp).to_bytes(_TIMESTAMP_SIZE, "big") + bytes(nonce)


def timestamp_of(freshness: bytes) -> datetime:
    """The timestamp a freshness value starts with (see :func:`freshness_value`);
    :class:`DecodeError` if it is too short or out of range."""
    if len(freshness) < _TIMESTAMP_SIZE:
        raise DecodeError("freshness value shorter than its timestamp")
    try:
        return datetime.fromtimestamp(int.from_bytes(freshness[:_TIMESTAMP_SIZE], "big"), UTC)
    except (ValueError, OverflowError, OSError):
        raise DecodeError("freshness timestamp out of range") from None


@dataclass(frozen=True, slots=True)
class Evidence:
    """Attestation evidence for one node key, as shipped in a node bundle.

    ``report`` is the platform's signed report, byte for byte as the hardware
    made it; ``endorsements`` are DER certificates, leaf first (SEV-SNP: VCEK,
    then optionally ASK and ARK; simulated: the machine's endorsement
    certificate; TDX: the DCAP collateral as dcap-qvl JSON, since the PCK chain
    travels inside the quote). ``node_key`` is the node's serialized HPKE public key
    (RFC 9180 ``SerializePublicKey``). ``timestamp`` is whole seconds, UTC.
    """

    platform: Platform
    report: bytes
    endorsements: tuple[bytes, ...]
    node_key: bytes
    freshness: bytes
    timestamp: datetime

    def __post_init__(self) -> None:
        if not isinstance(self.platform, Platform):
            raise MisuseError("platform must be a Platform")
        if not isinstance(self.report, bytes) or not 1 <= len(self.report) <= _MAX_REPORT:
            raise MisuseError("report must be 1..2^24-1 bytes")
        if not isinstance(self.endorsements, tuple) or len(self.endorsements) > _MAX_ENDORSEMENTS:
            raise MisuseError(f"endorsements must be a tuple of at most {_MAX_ENDORSEMENTS}")
        for cert in self.endorsements:
            if not isinstance(cert, bytes) or not 1 <= len(cert) <= _MAX_CERT:
                raise MisuseError("each endorsement must be 1..2^24-1 bytes of DER")
        if not isinstance(self.node_key, bytes) or not 1 <= len(self.node_key) <= _MAX_KEY:
            raise MisuseError("node_key must be 1..65535 bytes")
        if not isinstance(self.freshness, bytes) or not (
            _TIMESTAMP_SIZE <= len(self.freshness) <= _MAX_FRESHNESS
        ):
            raise MisuseError("freshness must be 8..255 bytes")
        if not isinstance(self.timestamp, datetime):
            raise MisuseError("timestamp must be a datetime")
        _epoch(self.timestamp)
        if self.timestamp.microsecond:
            raise MisuseError("timestamp must be whole seconds")

    def encode(self) -> bytes:
        """The canonical encoding (module docstring)."""
        w = Writer().write_uint8(ENCODING_VERSION).write_uint16(int(self.platform))
        w.write_vec(3, self.report).write_uint8(len(self.endorsements))
        for cert in self.endorsements:
            w.write_vec(3, cert)
        w.write_vec(2, self.node_key).write_vec(1, self.freshness)
        w.write_uint64(_epoch(self.timestamp))
        return w.getvalue()

    @classmethod
    def decode(cls, data: bytes) -> Evidence:
        """Parse the canonical encoding; raises only :class:`DecodeError`."""
        r = Reader(data)
        version = r.read_uint8("evidence version")
        if version != ENCODING_VERSION:
            raise DecodeError(f"evidence: unknown encoding version {version}")
        platform_id = r.read_uint16("evidence platform")
        try:
            platform = Platform(platform_id)
        except ValueError:
            raise DecodeError(f"evidence: unknown platform {platform_id}") from None
        report = r.read_vec(3, "evidence report")
        count = r.read_uint8("evidence endorsement count")
        if count > _MAX_ENDORSEMENTS:
            raise DecodeError(f"evidence: {count} endorsements, over {_MAX_ENDORSEMENTS}")
        endorsements = tuple(r.read_vec(3, "evidence endorsement") for _ in range(count))
        node_key = r.read_vec(2, "evidence node_key")
        freshness = r.read_vec(1, "evidence freshness")
        seconds = r.read_uint64("evidence timestamp")
        r.expect_end("evidence")
        try:
            timestamp = datetime.fromtimestamp(seconds, UTC)
            return cls(platform, report, endorsements, node_key, freshness, timestamp)
        except (MisuseError, ValueError, OverflowError, OSError) as exc:
            raise DecodeError(f"evidence: invalid field ({exc})") from None
