"""Remote attestation: evidence, policy, and verifiers that fail closed.

A device sends nothing to a node unless :func:`verify` returns a
:class:`VerifiedNode` for the node's evidence: hardware-rooted signatures
verify up to the vendor's root, the report binds the node's HPKE key and a fresh
timestamp (:func:`binding`), and the policy holds (debug off, minimum TCB from
the endorsement certificate, an allowed measurement, evidence not too old).

Platforms: :mod:`.simulated` (a software TEE for laptops and tests) and
:mod:`.sevsnp` (AMD SEV-SNP). Measurements: :mod:`.measure`. No I/O here except
:mod:`.sevsnp.configfs`, which runs on the node to obtain evidence.
"""

from __future__ import annotations

from privproc.attestation.evidence import Evidence, Platform, binding, freshness_value
from privproc.attestation.measure import measure_release, measure_tree
from privproc.attestation.policy import Policy, VerifiedNode
from privproc.attestation.tcb import Tcb
from privproc.attestation.verifier import verify

__all__ = [
    "Evidence",
    "Platform",
    "Policy",
    "Tcb",
    "VerifiedNode",
    "binding",
    "freshness_value",
    "measure_release",
    "measure_tree",
    "verify",
]
