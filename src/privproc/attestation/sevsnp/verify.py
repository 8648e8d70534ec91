"""Verify AMD SEV-SNP evidence: parse, verify signatures, validate policy.

Each step is its own function; every failure raises
:class:`~privproc.errors.AttestationError` naming its check:

============================== ====================================================
``sevsnp.report.format``       the report does not parse (56860 layout, reserved
                               fields zero, known version and signature algorithm)
``sevsnp.vcek.format``         no VCEK, or it does not parse
``sevsnp.chain.format``        the ASK/ARK do not parse
``sevsnp.ark.pin`` ...         the chain (:func:`privproc.attestation.sevsnp.certs.verify_chain`)
``sevsnp.vcek.tcb``            the VCEK lacks its TCB or hwID extensions
``sevsnp.report.signing_key``  the report is not signed by a VCEK (VLEK, none)
``sevsnp.report.product``      the report's CPUID (v3+) is not the chain's product
``sevsnp.report.signature``    the VCEK's ECDSA P-384 signature on 0x0..0x29F fails
``sevsnp.report.tcb``          REPORTED_TCB differs from the VCEK's TCB
``sevsnp.report.chip_id``      CHIP_ID differs from the VCEK's hwID (or is masked)
``binding.report_data``        REPORT_DATA is not the expected binding
``policy.*``                   debug, TCB (from the VCEK), measurement, freshness
============================== ====================================================

The report's own description of itself (its TCB, its chip id) is only ever
compared with what the VCEK certificate says; policy reads the certificate.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID

from privproc.attestation._x509 import load_der
from privproc.attestation.evidence import Evidence, Platform
from privproc.attestation.policy import (
    Policy,
    VerifiedNode,
    accept,
    check_debug,
    check_freshness,
    check_measurement,
    check_tcb,
)
from privproc.attestation.sevsnp.certs import (
    Chain,
    Product,
    chain_for,
    check_crl,
    load_crl,
    test_chain,
    vcek_chip_id,
    vcek_tcb,
    verify_chain,
)
from privproc.attestation.sevsnp.report import SnpReport, parse_report
from privproc.attestation.tcb import Tcb
from privproc.errors import AttestationError, DecodeError, MisuseError

__all__ = [
    "Endorsed",
    "VerifiedReport",
    "load_vcek",
    "parse",
    "product_of_cpuid",
    "validate",
    "verify",
    "verify_report",
    "verify_signatures",
]

_TURIN_HWID_SIZE = 8


@dataclass(frozen=True, slots=True)
class Endorsed:
    """What AMD's certificates vouch for: the product, the VCEK's TCB and chip id."""

    product: Product
    tcb: Tcb
    chip_id: bytes


@dataclass(frozen=True, slots=True)
class VerifiedReport:
    """A report whose signatures verified and whose policy held."""

    product: Product
    report: SnpReport
    tcb: Tcb
    chip_id: bytes

    @property
    def measurement(self) -> bytes:
        """The launch measurement (48 bytes)."""
        return self.report.measurement

    @property
    def report_data(self) -> bytes:
        """REPORT_DATA (64 bytes)."""
        return self.report.report_data


def parse(report: bytes) -> SnpReport:
    """Parse an ATTESTATION_REPORT (``sevsnp.report.format``)."""
    try:
        return parse_report(report)
    except DecodeError as exc:
        raise AttestationError("sevsnp.report.format", str(exc)) from None


def load_vcek(der: bytes) -> x509.Certificate:
    """Parse a VCEK certificate (``sevsnp.vcek.format``)."""
    return load_der(der, "sevsnp.vcek.format")


def product_of_cpuid(family: int, model: int) -> Product | None:
    """The product a CPUID family/model pair names (56860 v3 report fields), if known."""
    if family == 0x19 and model <= 0x0F:
        return Product.MILAN
    if family == 0x19 and (0x10 <= model <= 0x1F or 0xA0 <= model <= 0xAF):
        return Product.GENOA
    if family == 0x1A:
        return Product.TURIN
    return None


def _product_of_vcek(vcek: x509.Certificate) -> Product:
    names = vcek.issuer.get_attributes_for_oid(NameOID.COMMON_NAME)
    issuer = str(names[0].value) if names else ""
    for product in Product:
        if issuer == f"SEV-{product.value}":
            return product
    raise AttestationError(
        "sevsnp.vcek.chain", "VCEK issuer names no known product", found=issuer or "(none)"
    )


def _check_product(report: SnpReport, product: Product) -> None:
    if report.cpuid_fam_id is None or report.cpuid_mod_id is None:
        if product.turin_layout:
            raise AttestationError(
                "sevsnp.report.product",
                "a version 2 report cannot say it is from Turin (no CPUID fields)",
                expected="version >= 3",
                found=report.version,
            )
        return
    named = product_of_cpuid(report.cpuid_fam_id, report.cpuid_mod_id)
    if named is not product:
        raise AttestationError(
            "sevsnp.report.product",
            "report CPUID is not the chain's product",
            expected=product.value,
            found=f"family {report.cpuid_fam_id:#x} model {report.cpuid_mod_id:#x}",
        )


def _check_chip_id(report: SnpReport, hwid: bytes, product: Product) -> None:
    if report.mask_chip_key:
        raise AttestationError(
            "sevsnp.report.chip_id", "chip id masked (MASK_CHIP_KEY); cannot match the VCEK"
        )
    expected = hwid
    if product.turin_layout and len(hwid) == _TURIN_HWID_SIZE:
        expected = hwid + bytes(64 - _TURIN_HWID_SIZE)
    if not hmac.compare_digest(report.chip_id, expected):
        raise AttestationError(
            "sevsnp.report.chip_id",
            "report chip id differs from the VCEK hwID",
            expected=expected.hex(),
            found=report.chip_id.hex(),
        )


def verify_signatures(
    report: SnpReport,
    vcek: x509.Certificate,
    chain: Chain | None,
    *,
    now: datetime,
    crl: bytes | None = None,
    test_chains: Sequence[Chain] = (),
) -> Endorsed:
    """Verify VCEK <- ASK <- ARK and the report's signature; return what AMD endorses.

    ``chain`` is the ASK/ARK pair to use; ``None`` uses the packaged chain of the
    product the VCEK's issuer names. Either way the ARK must be a pinned root.
    ``crl``: the ARK's CRL (DER, from AMD's KDS); when given it must be current and
    list neither the ASK nor the VCEK (see :func:`~.certs.check_crl`).
    ``test_chains``: the device's test trust store (:func:`~.certs.chain_for`); empty
    in production.
    """
    if chain is None:
        chain = chain_for(vcek, _product_of_vcek(vcek), test_chains)
    product, key = verify_chain(vcek, chain, now=now, test_chains=test_chains)
    if crl is not None:
        check_crl(load_crl(crl), vcek, chain, now=now)
    if report.signing_key != 0:
        raise AttestationError(
            "sevsnp.report.signing_key",
            "report not signed by a VCEK",
            expected=0,
            found=report.signing_key,
        )
    _check_product(report, product)
    signature = encode_dss_signature(report.signature_r, report.signature_s)
    try:
        key.verify(signature, report.signed, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise AttestationError(
            "sevsnp.report.signature", "VCEK signature on the report does not verify"
        ) from None
    tcb = vcek_tcb(vcek, product)
    try:
        reported = Tcb.from_u64(report.reported_tcb, turin=product.turin_layout)
    except DecodeError as exc:
        raise AttestationError("sevsnp.report.format", str(exc)) from None
    if reported != tcb:
        raise AttestationError(
            "sevsnp.report.tcb",
            "REPORTED_TCB differs from the VCEK's TCB",
            expected=tcb,
            found=reported,
        )
    hwid = vcek_chip_id(vcek)
    _check_chip_id(report, hwid, product)
    return Endorsed(product, tcb, report.chip_id)


def validate(
    report: SnpReport,
    endorsed: Endorsed,
    *,
    policy: Policy,
    now: datetime,
    report_data: bytes | None = None,
    produced_at: datetime | None = None,
) -> VerifiedReport:
    """Policy checks on a report whose signatures verified.

    ``report_data``: what REPORT_DATA must hold (``binding.report_data``); ``None``
    skips that check (only for evidence that binds no privproc key, such as a
    sample from elsewhere; :func:`verify` always passes it). ``produced_at``:
    when the report was made, for ``policy.freshness``; ``None`` skips the age
    check (a bare report carries no time).
    """
    if report_data is not None and not hmac.compare_digest(report.report_data, report_data):
        raise AttestationError(
            "binding.report_data",
            "REPORT_DATA is not the expected value",
            expected=report_data.hex(),
            found=report.report_data.hex(),
        )
    check_debug(report.debug, policy)
    check_tcb(endorsed.tcb, policy)
    check_measurement(report.measurement, policy)
    if produced_at is not None:
        check_freshness(produced_at, policy, now)
    return VerifiedReport(endorsed.product, report, endorsed.tcb, endorsed.chip_id)


def verify_report(
    report: bytes,
    vcek: bytes,
    chain: Chain | None,
    *,
    policy: Policy,
    now: datetime,
    report_data: bytes | None = None,
    produced_at: datetime | None = None,
    crl: bytes | None = None,
    test_chains: Sequence[Chain] = (),
) -> VerifiedReport:
    """Verify a raw report with its VCEK (DER) and chain (``privproc attest verify``).

    ``test_chains``: a test trust store (:func:`~.certs.product_of_ark`); empty by default.
    """
    parsed = parse(report)
    endorsed = verify_signatures(
        parsed, load_vcek(vcek), chain, now=now, crl=crl, test_chains=test_chains
    )
    return validate(
        parsed,
        endorsed,
        policy=policy,
        now=now,
        report_data=report_data,
        produced_at=produced_at,
    )


def verify(
    evidence: Evidence, *, policy: Policy, now: datetime, nonce: bytes | None = None
) -> VerifiedNode:
    """Verify SEV-SNP :class:`Evidence`: endorsements are ``(VCEK,)`` or ``(VCEK, ASK, ARK)``."""
    if evidence.platform is not Platform.SEV_SNP:
        raise MisuseError("not SEV-SNP evidence")
    parsed = parse(evidence.report)
    certs = evidence.endorsements
    if len(certs) not in (1, 3):
        raise AttestationError(
            "sevsnp.vcek.format",
            "endorsements must be (VCEK,) or (VCEK, ASK, ARK)",
            found=len(certs),
        )
    vcek = load_vcek(certs[0])
    chain = None
    if len(certs) == 3:
        chain = Chain(
            ask=load_der(certs[1], "sevsnp.chain.format"),
            ark=load_der(certs[2], "sevsnp.chain.format"),
        )
    tests = tuple(test_chain(pem) for pem in policy.sevsnp_test_chains)
    endorsed = verify_signatures(parsed, vcek, chain, now=now, test_chains=tests)
    return accept(
        evidence,
        report_data=parsed.report_data,
        measurement=parsed.measurement,
        debug=parsed.debug,
        tcb=endorsed.tcb,
        chip_id=endorsed.chip_id,
        policy=policy,
        now=now,
        nonce=nonce,
        checks=(
            "sevsnp.report.format",
            "sevsnp.ark.pin",
            "sevsnp.ark.signature",
            "sevsnp.ask.signature",
            "sevsnp.vcek.chain",
            "sevsnp.vcek.validity",
            "sevsnp.report.signature",
            "sevsnp.report.tcb",
            "sevsnp.report.chip_id",
        ),
    )
