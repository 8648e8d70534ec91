"""Verify simulated evidence: parse, verify signatures, validate policy.

Each step is its own function and every failure raises
:class:`~privproc.errors.AttestationError` naming its check:

=============================== ==================================================
``simulated.report.format``     the report does not parse
``simulated.endorsement.format`` no endorsement certificate, or it does not parse
``simulated.root``              the endorsement is not issued by a trusted root
``simulated.root.validity``     the root is not valid at ``now``
``simulated.endorsement.chain`` the root's signature on the endorsement fails
``simulated.endorsement.validity`` the endorsement is not valid at ``now``
``simulated.endorsement.tcb``   the endorsement lacks a TCB or chip id extension
``simulated.report.signature``  the endorsement key's signature on the report fails
``simulated.report.tcb``        the report's TCB differs from the endorsed TCB
``simulated.report.chip_id``    the report's chip id differs from the endorsed one
=============================== ==================================================

then the shared checks of :mod:`privproc.attestation.policy`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from privproc.attestation._x509 import (
    check_validity,
    ext_bytes,
    ext_int,
    load_der,
    verify_ecdsa_p384,
)
from privproc.attestation.evidence import Evidence, Platform
from privproc.attestation.policy import Policy, VerifiedNode, accept
from privproc.attestation.simulated.report import SimReport, parse_report
from privproc.attestation.simulated.vendor import (
    OID_BL_SPL,
    OID_HWID,
    OID_SNP_SPL,
    OID_TEE_SPL,
    OID_UCODE_SPL,
)
from privproc.attestation.tcb import Tcb
from privproc.errors import AttestationError, DecodeError, MisuseError

__all__ = ["Endorsed", "parse", "validate", "verify", "verify_signatures"]


@dataclass(frozen=True, slots=True)
class Endorsed:
    """What the endorsement certificate vouches for: the machine's TCB and chip id."""

    tcb: Tcb
    chip_id: bytes


def parse(evidence: Evidence) -> SimReport:
    """Parse the report (``simulated.report.format``)."""
    if evidence.platform is not Platform.SIMULATED:
        raise MisuseError("not simulated evidence")
    try:
        return parse_report(evidence.report)
    except DecodeError as exc:
        raise AttestationError("simulated.report.format", str(exc)) from None


def verify_signatures(
    report: SimReport, endorsements: tuple[bytes, ...], roots: tuple[bytes, ...], now: datetime
) -> Endorsed:
    """Chain the endorsement to a trusted root and check the report's signature.

    Returns the TCB and chip id the endorsement certificate vouches for, after
    checking the report says the same (the report's own claims are never used).
    """
    if not endorsements:
        raise AttestationError("simulated.endorsement.format", "no endorsement certificate")
    leaf = load_der(endorsements[0], "simulated.endorsement.format")
    trusted = [load_der(r, "simulated.root") for r in roots]
    issuers = [r for r in trusted if r.subject == leaf.issuer]
    if not issuers:
        raise AttestationError(
            "simulated.root",
            "endorsement not issued by a trusted simulated root",
            expected=f"one of {len(trusted)} trusted roots",
            found=leaf.issuer.rfc4514_string(),
        )
    if not isinstance(leaf.signature_hash_algorithm, hashes.SHA384):
        raise AttestationError("simulated.endorsement.chain", "endorsement not signed with SHA-384")
    # Several trusted roots may share a name (a rotated root): any one that signed it will do.
    failure: AttestationError | None = None
    for root in issuers:
        try:
            check_validity(root, now, "simulated.root.validity")
            verify_ecdsa_p384(
                root.public_key(),
                leaf.signature,
                leaf.tbs_certificate_bytes,
                "simulated.endorsement.chain",
            )
        except AttestationError as exc:
            failure = failure or exc
            continue
        break
    else:
        assert failure is not None
        raise failure
    check_validity(leaf, now, "simulated.endorsement.validity")
    check = "simulated.endorsement.tcb"
    try:
        tcb = Tcb(
            bootloader=ext_int(leaf, OID_BL_SPL, check),
            tee=ext_int(leaf, OID_TEE_SPL, check),
            snp=ext_int(leaf, OID_SNP_SPL, check),
            microcode=ext_int(leaf, OID_UCODE_SPL, check),
        )
    except MisuseError:
        raise AttestationError(check, "endorsed TCB component out of range") from None
    chip_id = ext_bytes(leaf, OID_HWID, check)
    verify_ecdsa_p384(
        leaf.public_key(),
        encode_dss_signature(report.signature_r, report.signature_s),
        report.signed,
        "simulated.report.signature",
    )
    if report.reported_tcb != tcb:
        raise AttestationError(
            "simulated.report.tcb",
            "report TCB differs from the endorsed TCB",
            expected=tcb,
            found=report.reported_tcb,
        )
    if report.chip_id != chip_id:
        raise AttestationError(
            "simulated.report.chip_id",
            "report chip id differs from the endorsed one",
            expected=chip_id.hex(),
            found=report.chip_id.hex(),
        )
    return Endorsed(tcb, chip_id)


def validate(
    report: SimReport,
    endorsed: Endorsed,
    evidence: Evidence,
    *,
    policy: Policy,
    now: datetime,
    nonce: bytes | None = None,
) -> VerifiedNode:
    """Binding and policy checks on a report whose signatures verified (:func:`accept`)."""
    return accept(
        evidence,
        report_data=report.report_data,
        measurement=report.measurement,
        debug=report.debug,
        tcb=endorsed.tcb,
        chip_id=endorsed.chip_id,
        policy=policy,
        now=now,
        nonce=nonce,
        checks=(
            "simulated.root",
            "simulated.endorsement.chain",
            "simulated.report.signature",
            "simulated.report.tcb",
            "simulated.report.chip_id",
        ),
    )


def verify(
    evidence: Evidence, *, policy: Policy, now: datetime, nonce: bytes | None = None
) -> VerifiedNode:
    """Verify simulated evidence: parse, verify signatures, validate policy."""
    report = parse(evidence)
    endorsed = verify_signatures(report, evidence.endorsements, policy.simulated_roots, now)
    return validate(report, endorsed, evidence, policy=policy, now=now, nonce=nonce)
