"""The TD report fields a node reads from its own TDX quote (no signature check).

Intel TDX DCAP Quote Generation Library and Quote Verification Library API,
"Quote Format" (quote v4): a 48-byte header (``version`` u16 = 4, ``tee_type`` u32 at
4 = 0x81 for TDX) is followed by the 584-byte TD Quote Body (TDX Module 1.x
"TDREPORT" fields): TEE_TCB_SVN 16, MRSEAM 48, MRSIGNERSEAM 48, SEAMATTRIBUTES 8,
TDATTRIBUTES 8, XFAM 8, **MRTD 48** (body offset 136), MRCONFIGID 48, MROWNER 48,
MROWNERCONFIG 48, **RTMR0..3 48 each** (body offset 328), REPORTDATA 64 (520).

Only the node uses this, to advertise the measurement its hardware reports; the
device verifies the quote with dcap-qvl (:mod:`.verify`) and reads the same fields
from the verified report. Raises only :class:`~privproc.errors.DecodeError`.
"""

from __future__ import annotations

from privproc.attestation.tdx.verify import td_measurement
from privproc.errors import DecodeError

__all__ = ["td_measurement_of_quote"]

_HEADER = 48
_BODY = 584
_MRTD = 136
_RTMR0 = 328
_MR = 48
_TEE_TDX = 0x81


def td_measurement_of_quote(quote: bytes) -> bytes:
    """:func:`~.verify.td_measurement` of the MRTD and RTMR0..3 in a v4 TDX quote."""
    if len(quote) < _HEADER + _BODY:
        raise DecodeError("TDX quote shorter than its header and TD quote body")
    version = int.from_bytes(quote[0:2], "little")
    tee_type = int.from_bytes(quote[4:8], "little")
    if version != 4 or tee_type != _TEE_TDX:
        raise DecodeError(f"not a v4 TDX quote (version {version}, tee type {tee_type:#x})")
    body = quote[_HEADER : _HEADER + _BODY]
    mr_td = body[_MRTD : _MRTD + _MR]
    rtmrs = [body[_RTMR0 + i * _MR : _RTMR0 + (i + 1) * _MR] for i in range(4)]
    return td_measurement(mr_td, *rtmrs)
