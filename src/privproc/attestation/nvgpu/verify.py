"""Verify NVIDIA Hopper GPU evidence: parse, verify chain and signature, check the nonce.

Checks, each naming itself:

=========================== =========================================================
``nvgpu.report.format``     the SPDM transcript does not parse (:mod:`.spdm`)
``nvgpu.chain.format``      the certificate chain does not parse, or is empty
``nvgpu.root.pin``          the chain does not end in the pinned NVIDIA Device Identity CA
``nvgpu.chain``             a certificate is not issued (ECDSA P-384 / SHA-384) by the next,
                            an issuer is not a CA, or the leaf may not sign
``nvgpu.chain.validity``    a certificate is not valid at ``now``
``nvgpu.report.signature``  the leaf key's signature over the transcript fails
``nvgpu.report.nonce``      the request nonce is not the one the verifier chose
``nvgpu.measurement``       a measurement differs from the reference digest the release
                            recorded (:func:`check_rims`), or is missing
=========================== =========================================================

Reference values: the release records the RIM digests (index -> SHA-384) at release
time, signed by the publisher in the ledger (docs/attestation.md, "GPU"); RIM XML
signatures (XML-DSig, C14N 1.1) are not verified here. Not checked: revocation
(NVIDIA's OCSP service).

Binding to the CPU evidence (:func:`gpu_nonce`): the GPU request nonce must be the
first 32 bytes of the CPU report's user data, ``binding(node_key, freshness)``, so the
GPU report was made for this node key and this freshness.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from privproc.attestation._x509 import check_validity, load_pem_all, verify_ecdsa_p384
from privproc.attestation.nvgpu.spdm import parse_transcript
from privproc.errors import AttestationError, DecodeError, MisuseError

__all__ = [
    "GPU_CHECKS",
    "ROOT_SHA256",
    "VerifiedGpu",
    "check_rims",
    "gpu_nonce",
    "packaged_root",
    "verify_gpu_report",
]

#: What a verified, RIM-checked GPU report passed, in order.
GPU_CHECKS = (
    "nvgpu.report.format",
    "nvgpu.root.pin",
    "nvgpu.chain",
    "nvgpu.chain.validity",
    "nvgpu.report.signature",
    "nvgpu.report.nonce",
    "nvgpu.measurement",
)

#: SHA-256 of the DER of "NVIDIA Device Identity CA" (``roots/``).
ROOT_SHA256 = bytes.fromhex("102bf659d5419614c9d8e6aecebc80454eb26b1df6a769ac720b9a690b167b48")


@dataclass(frozen=True, slots=True)
class VerifiedGpu:
    """A GPU report whose signature and chain verified."""

    measurements: Mapping[int, bytes]
    opaque_data: bytes
    device: str
    request_nonce: bytes


def packaged_root() -> x509.Certificate:
    """The NVIDIA Device Identity CA shipped with privproc."""
    pem = resources.files("privproc.attestation.nvgpu").joinpath(
        "roots", "nvidia_device_identity_ca.pem"
    )
    return load_pem_all(pem.read_bytes(), "nvgpu.root.pin")[0]


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def gpu_nonce(report_data: bytes) -> bytes:
    """The GPU request nonce that binds a GPU report to CPU evidence: the first 32 bytes
    of the CPU report's user data (``binding(node_key, freshness)``)."""
    if len(report_data) != 64:
        raise MisuseError("report_data is 64 bytes")
    return report_data[:32]


def check_rims(verified: VerifiedGpu, rims: Sequence[tuple[int, bytes]]) -> None:
    """``nvgpu.measurement``: each recorded (index, SHA-384) equals the report's value."""
    for index, digest in rims:
        found = verified.measurements.get(index)
        if found is None or not hmac.compare_digest(found, digest):
            raise AttestationError(
                "nvgpu.measurement",
                f"GPU measurement {index} is not the release's reference value",
                expected=digest.hex(),
                found="missing" if found is None else found.hex(),
            )


def _verify_chain(
    certs: list[x509.Certificate], now: datetime, test_roots: Sequence[bytes] = ()
) -> x509.Certificate:
    if not certs:
        raise AttestationError("nvgpu.chain.format", "empty certificate chain")
    root = certs[-1]
    fp = root.fingerprint(hashes.SHA256())
    tests = [hashlib.sha256(der).digest() for der in test_roots]
    if not hmac.compare_digest(fp, ROOT_SHA256) and not any(
        hmac.compare_digest(fp, t) for t in tests
    ):
        raise AttestationError(
            "nvgpu.root.pin",
            "chain does not end in NVIDIA's device identity root",
            expected=ROOT_SHA256.hex(),
            found=fp.hex(),
        )
    for cert, issuer in zip(certs, [*certs[1:], root], strict=True):
        if cert.issuer != issuer.subject or not _is_ca(issuer):
            raise AttestationError(
                "nvgpu.chain",
                "certificate not issued by the next one (or issuer not a CA)",
                expected=issuer.subject.rfc4514_string(),
                found=cert.issuer.rfc4514_string(),
            )
        if not isinstance(cert.signature_hash_algorithm, hashes.SHA384):
            raise AttestationError("nvgpu.chain", "certificate not signed with SHA-384")
        verify_ecdsa_p384(
            issuer.public_key(), cert.signature, cert.tbs_certificate_bytes, "nvgpu.chain"
        )
        check_validity(cert, now, "nvgpu.chain.validity")
    leaf = certs[0]
    try:
        usage = leaf.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise AttestationError("nvgpu.chain", "leaf certificate has no key usage") from None
    if not usage.digital_signature:
        raise AttestationError("nvgpu.chain", "leaf key may not sign (no digitalSignature)")
    return leaf


def verify_gpu_report(
    report: bytes,
    chain_pem: bytes,
    *,
    nonce: bytes | None,
    now: datetime,
    test_roots: Sequence[bytes] = (),
) -> VerifiedGpu:
    """Verify an H100 attestation report (SPDM transcript) with its PEM chain, leaf first.

    ``nonce``: the 32-byte nonce the verifier sent; ``None`` skips that check (only for
    recorded samples; a device must always pass its own nonce). ``test_roots``: DER of
    emulated NVIDIA roots from the device's test trust store (empty in production: the
    pinned NVIDIA Device Identity CA only).
    """
    if now.tzinfo is None:
        raise MisuseError("now must be timezone-aware")
    try:
        transcript = parse_transcript(report)
    except DecodeError as exc:
        raise AttestationError("nvgpu.report.format", str(exc)) from None
    leaf = _verify_chain(load_pem_all(chain_pem, "nvgpu.chain.format"), now, test_roots)
    verify_ecdsa_p384(
        leaf.public_key(),
        encode_dss_signature(transcript.signature_r, transcript.signature_s),
        transcript.signed,
        "nvgpu.report.signature",
    )
    if nonce is not None and not hmac.compare_digest(transcript.request_nonce, nonce):
        raise AttestationError(
            "nvgpu.report.nonce",
            "report answers another nonce",
            expected=nonce.hex(),
            found=transcript.request_nonce.hex(),
        )
    return VerifiedGpu(
        measurements=transcript.measurements,
        opaque_data=transcript.opaque_data,
        device=leaf.subject.rfc4514_string(),
        request_nonce=transcript.request_nonce,
    )
