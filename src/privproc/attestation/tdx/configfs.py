"""Obtain TDX evidence on a real TD through Linux configfs-tsm (provider ``tdx_guest``).

The kernel's ``outblob`` is the DCAP quote (the quoting enclave runs on the host);
the collateral is not in it: fetch it ahead of time (PCCS or Intel PCS, as
dcap-qvl JSON) and pass it in, so the evidence verifies offline.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from privproc.attestation.evidence import Evidence, Platform
from privproc.attestation.tsm import TSM_REPORT_ROOT, request_bound_report
from privproc.errors import AttestationError

__all__ = ["tdx_evidence"]

# Intel TDX DCAP quote v4: 48-byte header, then the TD report body whose last 64 bytes
# (offset 520 of the body) are REPORTDATA.
_REPORT_DATA = slice(48 + 520, 48 + 584)


def tdx_evidence(
    node_key: bytes,
    *,
    timestamp: datetime,
    collateral: bytes,
    nonce: bytes = b"",
    root: Path = TSM_REPORT_ROOT,
    name: str | None = None,
) -> Evidence:
    """TDX :class:`Evidence` binding ``node_key`` at ``timestamp``, from configfs-tsm.

    The returned quote is checked to carry the requested REPORTDATA
    (``tsm.report_data``); full verification is the verifier's job.
    """
    bound = request_bound_report(
        node_key, provider="tdx_guest", timestamp=timestamp, nonce=nonce, root=root, name=name
    )
    got, want = bound.tsm, bound.report_data
    if len(got.outblob) < _REPORT_DATA.stop or got.outblob[_REPORT_DATA] != want:
        raise AttestationError(
            "tsm.report_data",
            "kernel returned a quote for other data",
            expected=want.hex(),
            found=got.outblob[_REPORT_DATA].hex(),
        )
    return Evidence(
        Platform.TDX, got.outblob, (collateral,), node_key, bound.freshness, bound.timestamp
    )
