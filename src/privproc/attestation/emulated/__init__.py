"""Emulated vendor hardware: real report formats signed by generated vendor chains.

So that the real verifiers run on the whole private path on a laptop and in CI
(DESIGN.md, "Real hardware"): :mod:`.sevsnp` issues AMD SEV-SNP
ATTESTATION_REPORTs (ABI spec 56860, byte for byte) signed by a VCEK that a
generated ARK -> ASK chain certifies with AMD's algorithms and extensions (KDS
spec 57230). They are verified by :mod:`privproc.attestation.sevsnp.verify`, the
code that verifies the real Milan sample; a device trusts the generated ARK only
through its explicit test trust store (``Policy.sevsnp_test_chains``). :mod:`.nvgpu`
issues NVIDIA H100-style SPDM 1.1 measurement reports under a generated device identity
root, verified by :mod:`privproc.attestation.nvgpu.verify`. :mod:`.tdx` issues Intel TDX
DCAP v4 quotes (PCK certificate with Intel's SGX extensions, QE report, attestation key)
and their collateral (TCB info, QE identity, CRLs) under a generated SGX root CA, verified
by dcap-qvl through :mod:`privproc.attestation.tdx.verify` pinned to that root only when
the test trust store names it (``Policy.tdx_test_roots``).
Pure: keys and ``now`` in, bytes out.
"""

from __future__ import annotations

from privproc.attestation.emulated.nvgpu import EmulatedGpu, golden_measurements
from privproc.attestation.emulated.sevsnp import EMULATED_ORG, EmulatedAmd, EmulatedChip

__all__ = ["EMULATED_ORG", "EmulatedAmd", "EmulatedChip", "EmulatedGpu", "golden_measurements"]
