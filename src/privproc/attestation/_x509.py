"""Certificate helpers shared by the platform verifiers; each failure names its check."""

from __future__ import annotations

import warnings
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.utils import CryptographyDeprecationWarning

from privproc.attestation._der import decode_small_int
from privproc.errors import AttestationError, DecodeError

__all__ = [
    "check_validity",
    "ext_bytes",
    "ext_int",
    "load_der",
    "load_pem_all",
    "verify_ecdsa_p384",
]


_PARSE_ERRORS = (
    ValueError,
    TypeError,
    UserWarning,
    UnsupportedAlgorithm,
    x509.InvalidVersion,
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
)


def _touch(cert: x509.Certificate) -> x509.Certificate:
    # cryptography parses some fields lazily; parse every field verifiers read now, so
    # a malformed certificate fails here, under its format check, and nowhere later.
    _ = (cert.serial_number, cert.subject, cert.issuer, cert.tbs_certificate_bytes)
    _ = (cert.not_valid_before_utc, cert.not_valid_after_utc, cert.signature)
    _ = (cert.signature_algorithm_oid, cert.signature_hash_algorithm, cert.public_key())
    _ = list(cert.extensions)
    return cert


def load_der(der: bytes, check: str) -> x509.Certificate:
    """Parse a DER certificate, every field included, or raise AttestationError(``check``).

    AMD's KDS issues VCEKs with a zero serial number, which RFC 5280 forbids and
    ``cryptography`` warns about; that deprecation warning is silenced here and only
    here, since the certificate's authenticity is decided by its signature, not its
    serial. Any other warning while parsing (a malformed name, say) refuses the
    certificate, as do the ``TypeError`` and ``ValueError`` cryptography raises for
    fields it parses lazily.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return _touch(x509.load_der_x509_certificate(der))
    except _PARSE_ERRORS:
        raise AttestationError(check, "certificate does not parse as DER X.509") from None


def load_pem_all(pem: bytes, check: str) -> list[x509.Certificate]:
    """Parse every PEM certificate in ``pem``, or raise AttestationError(``check``)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return [_touch(c) for c in x509.load_pem_x509_certificates(pem)]
    except _PARSE_ERRORS:
        raise AttestationError(check, "certificates do not parse as PEM X.509") from None


def check_validity(cert: x509.Certificate, now: datetime, check: str) -> None:
    """``now`` must lie within the certificate's validity period."""
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if not start <= now <= end:
        raise AttestationError(
            check, "certificate not valid at this time", expected=f"{start}..{end}", found=now
        )


def _ext(cert: x509.Certificate, oid: x509.ObjectIdentifier, check: str) -> bytes:
    try:
        ext = cert.extensions.get_extension_for_oid(oid)
    except x509.ExtensionNotFound:
        raise AttestationError(check, f"certificate lacks extension {oid.dotted_string}") from None
    except _PARSE_ERRORS:
        raise AttestationError(check, "certificate extensions do not parse") from None
    value = ext.value
    if not isinstance(value, x509.UnrecognizedExtension):
        raise AttestationError(check, f"extension {oid.dotted_string} has an unexpected type")
    return value.value


def ext_int(cert: x509.Certificate, oid: x509.ObjectIdentifier, check: str) -> int:
    """A DER INTEGER extension's value."""
    try:
        return decode_small_int(_ext(cert, oid, check))
    except DecodeError:
        raise AttestationError(check, f"extension {oid.dotted_string} is not an INTEGER") from None


def ext_bytes(cert: x509.Certificate, oid: x509.ObjectIdentifier, check: str) -> bytes:
    """A raw-octets extension's value."""
    return _ext(cert, oid, check)


def verify_ecdsa_p384(key: object, signature: bytes, data: bytes, check: str) -> None:
    """``key`` is an ECDSA P-384 key and ``signature`` (DER) its ECDSA SHA-384 signature
    over ``data`` (FIPS 186-5), or AttestationError(``check``)."""
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        raise AttestationError(check, "key is not ECDSA P-384")
    try:
        key.verify(signature, data, ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise AttestationError(check, "signature does not verify") from None
