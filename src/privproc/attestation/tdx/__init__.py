"""Intel TDX: DCAP quote verification on ``dcap-qvl`` (Phala's Rust verifier).

:mod:`.verify` verifies a TDX quote (v4) with its DCAP collateral at a given time,
offline, then applies privproc's policy (debug, Intel TCB status, measurement,
key binding). See docs/attestation.md for why this route was chosen.
"""

from __future__ import annotations

from privproc.attestation.tdx.verify import TdxVerified, td_measurement, verify_quote

__all__ = ["TdxVerified", "td_measurement", "verify_quote"]
