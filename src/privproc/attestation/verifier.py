"""The one entry point: ``verify(evidence, *, policy, now) -> VerifiedNode``.

Dispatches on :attr:`Evidence.platform` to the platform's verifier, each split
into parse / verify signatures / validate policy. Returns the verified node (its
bound HPKE key and the verified fields) or raises
:class:`~privproc.errors.AttestationError` naming the failed check. There is no
boolean form: a device that gets no :class:`VerifiedNode` sends nothing.
"""

from __future__ import annotations

from datetime import datetime

from privproc.attestation.evidence import Evidence, Platform
from privproc.attestation.policy import Policy, VerifiedNode
from privproc.errors import AttestationError, MisuseError

__all__ = ["verify"]


def verify(
    evidence: Evidence, *, policy: Policy, now: datetime, nonce: bytes | None = None
) -> VerifiedNode:
    """Verify ``evidence`` under ``policy`` at time ``now`` (timezone-aware).

    ``nonce``: when the device asked the node for fresh evidence, the nonce it
    sent; the evidence's freshness value must carry it (``binding.freshness``).
    """
    if not isinstance(evidence, Evidence) or not isinstance(policy, Policy):
        raise MisuseError("verify() takes an Evidence and a Policy")
    if now.tzinfo is None:
        raise MisuseError("now must be timezone-aware")
    if evidence.platform is Platform.SIMULATED:
        from privproc.attestation.simulated import verify as simulated

        return simulated.verify(evidence, policy=policy, now=now, nonce=nonce)
    if evidence.platform is Platform.SEV_SNP:
        from privproc.attestation.sevsnp import verify as sevsnp

        return sevsnp.verify(evidence, policy=policy, now=now, nonce=nonce)
    raise AttestationError(
        "platform.unsupported",
        "no verifier for this platform",
        expected="simulated or sev-snp",
        found=evidence.platform.name,
    )
