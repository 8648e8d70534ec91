"""The simulated TEE: a software vendor, its machines, and their verifier.

:mod:`.vendor` is the "hardware" (makes evidence); :mod:`.report` the report
layout; :mod:`.verify` the verifier (parse, verify signatures, validate policy).
"""

from __future__ import annotations

from privproc.attestation.simulated.vendor import SimulatedMachine, SimulatedVendor

__all__ = ["SimulatedMachine", "SimulatedVendor"]
