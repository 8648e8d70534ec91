"""Verify Intel TDX evidence: DCAP quote + collateral, then privproc's policy.

Quote and collateral verification (Intel "TDX DCAP Quoting Library API", quote
format v4; Intel "SGX/TDX PCK Certificate and CRL Specification"; TCB info and QE
identity from Intel's PCS) is delegated to ``dcap-qvl`` (PyPI, MIT): it checks the
PCK chain to its built-in Intel SGX Root CA, the CRLs, the QE report and its
signature, the attestation key binding, the ECDSA P-256 signature over the quote
header and TD report, and the platform's TCB level against the signed TCB info,
all "as of" ``now``. privproc then checks, each naming itself:

============================ ======================================================
``tdx.collateral.format``    the collateral is not dcap-qvl's JSON form
``tdx.quote.format``         the quote does not decode
``tdx.collateral.validity``  collateral (TCB info, QE identity, CRLs) not valid at now
``tdx.quote.signature``      a signature or hash in the quote does not verify
``tdx.quote.chain``          the PCK certificate chain does not verify
``tdx.tcb``                  no matching TCB level, or revoked
``tdx.quote.verify``         any other refusal by dcap-qvl (its message is kept)
``policy.tcb``               Intel's TCB status is not in ``Policy.tdx_tcb_status``
``policy.debug``             TDATTRIBUTES.DEBUG set and not allowed
``policy.measurement``       :func:`td_measurement` not allowed
``binding.*``                REPORTDATA does not bind the node key and freshness
``policy.freshness``         the evidence is too old (or from the future)
============================ ======================================================

dcap-qvl reports failures as ``ValueError`` text; the check names above are
chosen from that text, falling back to ``tdx.quote.verify``: every failure is
refused whatever its name. dcap-qvl 0.7 refuses a debuggable TD itself ("Debug mode is
enabled"), whatever ``Policy.allow_debug`` says; that refusal is named ``policy.debug``.
Collateral whose root CA CRL the pinned root did not sign ("Failed to parse root CA
CRL") is ``tdx.quote.chain``: it was issued under another root.

**Root.** A quote whose PCK chain (certification data type 5 inside type 6) ends in a
root certificate listed in ``Policy.tdx_test_roots`` is verified with
``dcap_qvl.verify_with_root_ca`` pinned to that root (the test trust store); every
other quote with ``dcap_qvl.verify``, pinned to Intel's SGX Root CA built into
dcap-qvl. The quote only selects among roots the policy already trusts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from privproc.attestation.evidence import Evidence, Platform
from privproc.attestation.policy import Policy, VerifiedNode, accept
from privproc.errors import AttestationError, MisuseError

__all__ = ["TdxVerified", "check_tcb_status", "td_measurement", "verify", "verify_quote"]

_LABEL = b"privproc tdx measurement v1"
_CHECKS = (
    ("debug mode", "policy.debug"),
    ("root ca crl", "tdx.quote.chain"),
    ("load root ca", "tdx.quote.chain"),
    ("decode quote", "tdx.quote.format"),
    ("failed to parse", "tdx.quote.format"),
    ("unsupported", "tdx.quote.format"),
    ("expired", "tdx.collateral.validity"),
    ("in the future", "tdx.collateral.validity"),
    ("not yet valid", "tdx.collateral.validity"),
    ("certificate chain", "tdx.quote.chain"),
    ("pck certificates", "tdx.quote.chain"),
    ("signature", "tdx.quote.signature"),
    ("hash mismatch", "tdx.quote.signature"),
    ("tcb level", "tdx.tcb"),
    ("revoked", "tdx.tcb"),
)


def td_measurement(mr_td: bytes, rtmr0: bytes, rtmr1: bytes, rtmr2: bytes, rtmr3: bytes) -> bytes:
    """The 48-byte value a TD is allow-listed by: SHA-384 over a label and MRTD, RTMR0..3.

    MRTD measures the initial TD (firmware); RTMR0..3 the boot chain (TD config,
    kernel, command line and initrd, and what the OS extends at run time).
    """
    parts = (mr_td, rtmr0, rtmr1, rtmr2, rtmr3)
    if any(len(p) != 48 for p in parts):
        raise MisuseError("MRTD and RTMRs are 48 bytes each")
    h = hashes.Hash(hashes.SHA384())
    h.update(len(_LABEL).to_bytes(1, "big") + _LABEL)
    for p in parts:
        h.update(p)
    return h.finalize()


@dataclass(frozen=True, slots=True)
class TdxVerified:
    """A TDX quote dcap-qvl verified: Intel's TCB status and the TD report fields."""

    status: str
    advisory_ids: tuple[str, ...]
    tee_tcb_svn: bytes
    mr_seam: bytes
    td_attributes: bytes
    xfam: bytes
    mr_td: bytes
    mr_config_id: bytes
    mr_owner: bytes
    mr_owner_config: bytes
    rtmr0: bytes
    rtmr1: bytes
    rtmr2: bytes
    rtmr3: bytes
    report_data: bytes
    ppid: bytes

    @property
    def debug(self) -> bool:
        """TDATTRIBUTES bit 0 (TUD.DEBUG): the host can read the TD's state."""
        return bool(self.td_attributes[0] & 1)

    @property
    def measurement(self) -> bytes:
        """:func:`td_measurement` of this TD."""
        return td_measurement(self.mr_td, self.rtmr0, self.rtmr1, self.rtmr2, self.rtmr3)


def _check_of(message: str) -> str:
    low = message.lower()
    for needle, check in _CHECKS:
        if needle in low:
            return check
    return "tdx.quote.verify"


def _field(body: dict[str, object], name: str, size: int) -> bytes:
    value = body.get(name)
    if not isinstance(value, str):
        raise AttestationError("tdx.quote.verify", f"verified report lacks {name}")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise AttestationError("tdx.quote.verify", f"verified {name} is not hex") from None
    if len(raw) != size:
        raise AttestationError("tdx.quote.verify", f"verified {name} has {len(raw)} bytes")
    return raw


_PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"
_PEM_END = b"-----END CERTIFICATE-----"


def _chain_root(quote: bytes) -> bytes | None:
    """The DER of the last certificate of the PEM chain a quote carries, if any."""
    start, end = quote.find(_PEM_BEGIN), quote.rfind(_PEM_END)
    if start < 0 or end < start:
        return None
    try:
        certs = x509.load_pem_x509_certificates(quote[start : end + len(_PEM_END)])
    except ValueError:
        return None
    return certs[-1].public_bytes(serialization.Encoding.DER) if certs else None


def verify_quote(
    quote: bytes, collateral: bytes, *, now: datetime, test_roots: tuple[bytes, ...] = ()
) -> TdxVerified:
    """Verify a TDX quote with its collateral (dcap-qvl JSON) as of ``now``, offline.

    ``test_roots``: the test trust store's emulated Intel roots (DER), module docstring."""
    if now.tzinfo is None:
        raise MisuseError("now must be timezone-aware")
    try:
        import dcap_qvl
    except ImportError:
        raise AttestationError(
            "platform.unsupported", "TDX needs the dcap-qvl package, which is not installed"
        ) from None
    try:
        col = dcap_qvl.QuoteCollateralV3.from_json(collateral.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise AttestationError("tdx.collateral.format", str(exc).splitlines()[0]) from None
    try:
        root = _chain_root(quote) if test_roots else None
        if root is not None and root in test_roots:
            result = dcap_qvl.verify_with_root_ca(bytes(quote), col, root, int(now.timestamp()))
        else:
            result = dcap_qvl.verify(bytes(quote), col, int(now.timestamp()))
        doc = json.loads(result.to_json())
    except ValueError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "refused"
        raise AttestationError(_check_of(str(exc)), first) from None
    report = doc.get("report", {})
    body = next((v for k, v in report.items() if k.startswith("TD")), None)
    if not isinstance(body, dict):
        raise AttestationError("tdx.quote.format", "quote is not a TD quote", found=list(report))
    return TdxVerified(
        status=str(doc.get("status")),
        advisory_ids=tuple(str(a) for a in doc.get("advisory_ids", [])),
        tee_tcb_svn=_field(body, "tee_tcb_svn", 16),
        mr_seam=_field(body, "mr_seam", 48),
        td_attributes=_field(body, "td_attributes", 8),
        xfam=_field(body, "xfam", 8),
        mr_td=_field(body, "mr_td", 48),
        mr_config_id=_field(body, "mr_config_id", 48),
        mr_owner=_field(body, "mr_owner", 48),
        mr_owner_config=_field(body, "mr_owner_config", 48),
        rtmr0=_field(body, "rt_mr0", 48),
        rtmr1=_field(body, "rt_mr1", 48),
        rtmr2=_field(body, "rt_mr2", 48),
        rtmr3=_field(body, "rt_mr3", 48),
        report_data=_field(body, "report_data", 64),
        ppid=bytes(result.ppid or b""),
    )


def check_tcb_status(verified: TdxVerified, policy: Policy) -> None:
    """``policy.tcb``: Intel's TCB status for the platform is one the policy accepts."""
    if verified.status not in policy.tdx_tcb_status:
        raise AttestationError(
            "policy.tcb",
            "Intel TCB status not accepted",
            expected=sorted(policy.tdx_tcb_status),
            found=verified.status,
        )


def verify(
    evidence: Evidence, *, policy: Policy, now: datetime, nonce: bytes | None = None
) -> VerifiedNode:
    """Verify TDX :class:`Evidence`: ``report`` is the quote, ``endorsements`` is
    ``(collateral JSON,)`` (the PCK chain travels inside the quote)."""
    if evidence.platform is not Platform.TDX:
        raise MisuseError("not TDX evidence")
    if len(evidence.endorsements) != 1:
        raise AttestationError(
            "tdx.collateral.format",
            "endorsements must be (collateral,)",
            found=len(evidence.endorsements),
        )
    verified = verify_quote(
        evidence.report, evidence.endorsements[0], now=now, test_roots=policy.tdx_test_roots
    )
    check_tcb_status(verified, policy)
    return accept(
        evidence,
        report_data=verified.report_data,
        measurement=verified.measurement,
        debug=verified.debug,
        tcb=None,
        chip_id=verified.ppid,
        policy=policy,
        now=now,
        nonce=nonce,
        checks=("tdx.quote.signature", "tdx.quote.chain", "tdx.collateral.validity", "policy.tcb"),
    )
