"""NVIDIA Hopper GPU evidence: SPDM measurements, signed by the GPU, chained to NVIDIA.

:mod:`.spdm` parses a GET_MEASUREMENTS request/response transcript (DMTF DSP0274
1.1); :mod:`.verify` checks its ECDSA P-384 signature with the GPU's leaf key, the
certificate chain to the pinned "NVIDIA Device Identity CA", and the requester's
nonce, and (:func:`.verify.check_rims`) each measurement against the RIM digest the
release recorded in the ledger (docs/attestation.md, "GPU").
"""

from __future__ import annotations

from privproc.attestation.nvgpu.spdm import MeasurementTranscript, parse_transcript
from privproc.attestation.nvgpu.verify import VerifiedGpu, verify_gpu_report

__all__ = ["MeasurementTranscript", "VerifiedGpu", "parse_transcript", "verify_gpu_report"]
