"""The simulated platform's report: a layout modeled on the SEV-SNP ATTESTATION_REPORT.

Little-endian, fixed size (296 bytes), signed with ECDSA P-384 / SHA-384 by the
machine's endorsement key over bytes ``0x00..0xC7``::

    offset size field
    0x00   4    version            = 1
    0x04   4    reserved           (zero)
    0x08   8    policy             bit 17 reserved, must be 1; bit 19 DEBUG (as SEV-SNP)
    0x10   8    reported_tcb       TCB_VERSION, family 19h layout (privproc.attestation.tcb)
    0x18   64   report_data        binding(node_key, freshness)
    0x58   48   measurement        measure_release(...)
    0x88   64   chip_id
    0xC8   96   signature          r || s, 48 bytes each, big-endian

The parser raises only :class:`~privproc.errors.DecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from privproc._wire import Reader
from privproc.attestation.tcb import Tcb
from privproc.errors import DecodeError, MisuseError

__all__ = [
    "POLICY_DEBUG_BIT",
    "POLICY_RESERVED_BIT",
    "REPORT_SIZE",
    "REPORT_VERSION",
    "SIGNED_SIZE",
    "SimReport",
    "encode_body",
    "parse_report",
]

REPORT_VERSION = 1
REPORT_SIZE = 0x128
SIGNED_SIZE = 0xC8
POLICY_DEBUG_BIT = 1 << 19
POLICY_RESERVED_BIT = 1 << 17
_KNOWN_POLICY_BITS = POLICY_DEBUG_BIT | POLICY_RESERVED_BIT


def _le(data: bytes) -> int:
    return int.from_bytes(data, "little")


@dataclass(frozen=True, slots=True)
class SimReport:
    """A parsed simulated report. ``signed`` is the exact signed byte range."""

    version: int
    policy: int
    reported_tcb: Tcb
    report_data: bytes
    measurement: bytes
    chip_id: bytes
    signature_r: int
    signature_s: int
    signed: bytes

    @property
    def debug(self) -> bool:
        """Whether the guest policy allows debugging."""
        return bool(self.policy & POLICY_DEBUG_BIT)


def parse_report(data: bytes) -> SimReport:
    """Parse a simulated report (module docstring for the layout)."""
    if len(data) != REPORT_SIZE:
        raise DecodeError(f"simulated report: {len(data)} bytes, expected {REPORT_SIZE}")
    r = Reader(data)
    version = _le(r.read_bytes(4, "version"))
    if version != REPORT_VERSION:
        raise DecodeError(f"simulated report: unknown version {version}")
    if any(r.read_bytes(4, "reserved")):
        raise DecodeError("simulated report: reserved bytes not zero")
    policy = _le(r.read_bytes(8, "policy"))
    if not policy & POLICY_RESERVED_BIT or policy & ~_KNOWN_POLICY_BITS:
        raise DecodeError(f"simulated report: invalid policy {policy:#x}")
    tcb = Tcb.from_u64(_le(r.read_bytes(8, "reported_tcb")))
    report_data = r.read_bytes(64, "report_data")
    measurement = r.read_bytes(48, "measurement")
    chip_id = r.read_bytes(64, "chip_id")
    sig_r = int.from_bytes(r.read_bytes(48, "signature r"), "big")
    sig_s = int.from_bytes(r.read_bytes(48, "signature s"), "big")
    r.expect_end("simulated report")
    return SimReport(
        version, policy, tcb, report_data, measurement, chip_id, sig_r, sig_s, data[:SIGNED_SIZE]
    )


def encode_body(
    *, report_data: bytes, measurement: bytes, chip_id: bytes, tcb: Tcb, debug: bool
) -> bytes:
    """The signed part of a simulated report (``0x00..0xC7``)."""
    if len(report_data) != 64 or len(measurement) != 48 or len(chip_id) != 64:
        raise MisuseError("report_data, measurement, chip_id must be 64, 48, 64 bytes")
    if tcb.fmc is not None:
        raise MisuseError("the simulated platform uses the family 19h TCB layout (no fmc)")
    policy = POLICY_RESERVED_BIT | (POLICY_DEBUG_BIT if debug else 0)
    body = (
        REPORT_VERSION.to_bytes(4, "little")
        + bytes(4)
        + policy.to_bytes(8, "little")
        + tcb.to_u64().to_bytes(8, "little")
        + report_data
        + measurement
        + chip_id
    )
    assert len(body) == SIGNED_SIZE
    return body
