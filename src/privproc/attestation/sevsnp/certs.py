"""AMD SEV-SNP endorsements: the VCEK <- ASK <- ARK chain and the VCEK's TCB extensions.

AMD "Versioned Chip Endorsement Key (VCEK) Certificate and KDS Interface
Specification" (publication 57230): the ARK (AMD Root Key, self-signed) signs the
ASK (AMD SEV Key), which signs each chip's VCEK, all with RSASSA-PSS / SHA-384
(salt 48). The VCEK is an ECDSA P-384 key whose certificate carries the TCB it
was issued for and the chip's hardware id in extensions (57230 §3.1, "VCEK
Certificate Extensions"):

==================================== ===========================================
``1.3.6.1.4.1.3704.1.3.1`` blSPL     boot loader SPL (INTEGER)
``1.3.6.1.4.1.3704.1.3.2`` teeSPL    TEE SPL
``1.3.6.1.4.1.3704.1.3.3`` snpSPL    SNP firmware SPL
``1.3.6.1.4.1.3704.1.3.8`` ucodeSPL  microcode SPL
``1.3.6.1.4.1.3704.1.3.9`` fmcSPL    FMC SPL (Turin only)
``1.3.6.1.4.1.3704.1.4``   hwID      chip id (64 bytes; 8 bytes on Turin)
==================================== ===========================================

AMD's roots for Milan, Genoa and Turin ship in ``roots/`` (see its SOURCES.md),
each ARK pinned by SHA-256 fingerprint in :data:`ARK_SHA256`. Every failure
raises :class:`~privproc.errors.AttestationError` naming its check.
"""

from __future__ import annotations

import enum
import functools
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID, SignatureAlgorithmOID

from privproc.attestation._x509 import check_validity, ext_bytes, ext_int, load_pem_all
from privproc.attestation.tcb import Tcb
from privproc.errors import AttestationError, MisuseError

__all__ = [
    "ARK_SHA256",
    "OID_BL_SPL",
    "OID_FMC_SPL",
    "OID_HWID",
    "OID_SNP_SPL",
    "OID_TEE_SPL",
    "OID_UCODE_SPL",
    "Chain",
    "Product",
    "chain_for",
    "check_crl",
    "load_crl",
    "packaged_chain",
    "product_of_ark",
    "test_chain",
    "vcek_chip_id",
    "vcek_der",
    "vcek_tcb",
    "verify_chain",
]

OID_BL_SPL = x509.ObjectIdentifier("1.3.6.1.4.1.3704.1.3.1")
OID_TEE_SPL = x509.ObjectIdentifier("1.3.6.1.4.1.3704.1.3.2")
OID_SNP_SPL = x509.ObjectIdentifier("1.3.6.1.4.1.3704.1.3.3")
OID_UCODE_SPL = x509.ObjectIdentifier("1.3.6.1.4.1.3704.1.3.8")
OID_FMC_SPL = x509.ObjectIdentifier("1.3.6.1.4.1.3704.1.3.9")
OID_HWID = x509.ObjectIdentifier("1.3.6.1.4.1.3704.1.4")

_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)


class Product(enum.Enum):
    """An SEV-SNP product line (its own ARK, ASK and TCB layout)."""

    MILAN = "Milan"
    GENOA = "Genoa"
    TURIN = "Turin"

    @property
    def turin_layout(self) -> bool:
        """Whether TCB_VERSION uses the family 1Ah layout (with FMC)."""
        return self is Product.TURIN


#: SHA-256 of each product's ARK certificate (DER), as shipped in ``roots/``.
ARK_SHA256: dict[Product, bytes] = {
    Product.MILAN: bytes.fromhex(
        "69d063b45344d26a2e94e1f4210de49ef555308287d4c174445c95639a540bcd"
    ),
    Product.GENOA: bytes.fromhex(
        "4c6598d19c18719c5dfd4a7d335f674e5bfe1d8f800cea2cf270c10d103db2f1"
    ),
    Product.TURIN: bytes.fromhex(
        "1f084161a44bb6d93778a904877d4819cafa5d05ef4193b2ded9dd9c73dd3f6a"
    ),
}


@dataclass(frozen=True, slots=True)
class Chain:
    """An ASK and ARK pair (the ``cert_chain`` AMD's KDS serves, ASK first)."""

    ask: x509.Certificate
    ark: x509.Certificate

    def __post_init__(self) -> None:
        if not isinstance(self.ask, x509.Certificate) or not isinstance(self.ark, x509.Certificate):
            raise MisuseError("Chain holds two x509.Certificate values (ASK, ARK)")

    @classmethod
    def from_pem(cls, pem: bytes) -> Chain:
        """Parse a KDS ``cert_chain`` PEM: exactly two certificates, ASK then ARK."""
        certs = load_pem_all(pem, "sevsnp.chain.format")
        if len(certs) != 2:
            raise AttestationError(
                "sevsnp.chain.format", "chain must hold ASK then ARK", expected=2, found=len(certs)
            )
        return cls(ask=certs[0], ark=certs[1])


@functools.cache
def packaged_chain(product: Product) -> Chain:
    """AMD's ASK and ARK for ``product``, as shipped with privproc (``roots/``; cached)."""
    name = f"ask_ark_{product.value.lower()}.pem"
    pem = resources.files("privproc.attestation.sevsnp").joinpath("roots", name).read_bytes()
    return Chain.from_pem(pem)


def _fingerprint(cert: x509.Certificate) -> bytes:
    return cert.fingerprint(hashes.SHA256())


def product_of_ark(ark: x509.Certificate, test_chains: Sequence[Chain] = ()) -> Product:
    """The product whose pinned ARK this is (``sevsnp.ark.pin`` if none).

    ``test_chains``: the device's test trust store (emulated AMD hierarchies); an ARK
    byte-identical to one of theirs is accepted too, its product named by its
    common name (``ARK-Milan``...). Empty in production: AMD's pins only.
    """
    fp = _fingerprint(ark)
    for product, pinned in ARK_SHA256.items():
        if hmac.compare_digest(fp, pinned):
            return product
    for chain in test_chains:
        if hmac.compare_digest(fp, _fingerprint(chain.ark)):
            return _product_of_test_ark(chain.ark)
    raise AttestationError(
        "sevsnp.ark.pin",
        "ARK is not one of AMD's pinned roots",
        expected="a pinned ARK (Milan, Genoa, Turin)",
        found=fp.hex(),
    )


def _product_of_test_ark(ark: x509.Certificate) -> Product:
    names = ark.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = str(names[0].value) if names else ""
    for product in Product:
        if cn == f"ARK-{product.value}":
            return product
    raise AttestationError("sevsnp.ark.pin", "test ARK names no product", found=cn or "(none)")


@functools.cache
def test_chain(pem: bytes) -> Chain:
    """A test trust store entry (ASK then ARK, PEM), parsed once (cached)."""
    return Chain.from_pem(pem)


def chain_for(vcek: x509.Certificate, product: Product, test_chains: Sequence[Chain]) -> Chain:
    """The ASK/ARK pair to check ``vcek`` with, when the evidence carries none.

    A test chain whose ASK subject is exactly the VCEK's issuer, else AMD's packaged
    chain for ``product`` (so with no test store, an emulated VCEK is checked
    against AMD's ASK and refused as ``sevsnp.vcek.chain``).
    """
    for chain in test_chains:
        if chain.ask.subject == vcek.issuer:
            return chain
    return packaged_chain(product)


def _verify_pss(issuer: x509.Certificate, cert: x509.Certificate, check: str) -> None:
    if cert.issuer != issuer.subject:
        raise AttestationError(
            check,
            "certificate not issued by the expected key",
            expected=issuer.subject.rfc4514_string(),
            found=cert.issuer.rfc4514_string(),
        )
    if cert.signature_algorithm_oid != SignatureAlgorithmOID.RSASSA_PSS:
        raise AttestationError(
            check, "certificate not signed with RSASSA-PSS", found=cert.signature_algorithm_oid
        )
    try:
        key = issuer.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise AttestationError(check, "issuer public key does not parse") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise AttestationError(check, "issuer key is not RSA")
    try:
        key.verify(cert.signature, cert.tbs_certificate_bytes, _PSS, hashes.SHA384())
    except InvalidSignature:
        raise AttestationError(check, "RSASSA-PSS SHA-384 signature does not verify") from None


def verify_chain(
    vcek: x509.Certificate, chain: Chain, *, now: datetime, test_chains: Sequence[Chain] = ()
) -> tuple[Product, ec.EllipticCurvePublicKey]:
    """Check VCEK <- ASK <- ARK at ``now``; return the product and the VCEK's P-384 key.

    Checks, in order: ``sevsnp.ark.pin`` (the ARK is a pinned AMD root),
    ``sevsnp.ark.signature`` (self-signed), ``sevsnp.ask.signature``,
    ``sevsnp.vcek.chain`` (the ASK signed the VCEK), ``sevsnp.ark.validity``,
    ``sevsnp.ask.validity``, ``sevsnp.vcek.validity``, ``sevsnp.vcek.key``.
    ``test_chains``: the test trust store (:func:`product_of_ark`).
    """
    if now.tzinfo is None:
        raise MisuseError("now must be timezone-aware")
    product = product_of_ark(chain.ark, test_chains)
    _verify_pss(chain.ark, chain.ark, "sevsnp.ark.signature")
    _verify_pss(chain.ark, chain.ask, "sevsnp.ask.signature")
    _verify_pss(chain.ask, vcek, "sevsnp.vcek.chain")
    check_validity(chain.ark, now, "sevsnp.ark.validity")
    check_validity(chain.ask, now, "sevsnp.ask.validity")
    check_validity(vcek, now, "sevsnp.vcek.validity")
    try:
        key = vcek.public_key()
    except (ValueError, UnsupportedAlgorithm):
        raise AttestationError("sevsnp.vcek.key", "VCEK public key does not parse") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp384r1":
        raise AttestationError("sevsnp.vcek.key", "VCEK key is not ECDSA P-384")
    return product, key


def load_crl(der: bytes) -> x509.CertificateRevocationList:
    """Parse a DER CRL as AMD's KDS serves it (``/vcek/v1/{product}/crl``)."""
    try:
        crl = x509.load_der_x509_crl(der)
        _ = (crl.issuer, crl.signature, crl.tbs_certlist_bytes, crl.signature_algorithm_oid)
        _ = (crl.last_update_utc, crl.next_update_utc, list(crl.extensions))
        _ = [(r.serial_number, r.revocation_date_utc) for r in crl]
    except (ValueError, UnsupportedAlgorithm):
        raise AttestationError("sevsnp.crl.format", "CRL does not parse as DER") from None
    return crl


def check_crl(
    crl: x509.CertificateRevocationList, vcek: x509.Certificate, chain: Chain, *, now: datetime
) -> None:
    """Check the ARK's CRL (57230, "Certificate Revocation List"), then that neither the
    ASK nor the VCEK is on it.

    Checks: ``sevsnp.crl.signature`` (issued and RSASSA-PSS-signed by the ARK),
    ``sevsnp.crl.validity`` (``last_update <= now <= next_update``; a CRL without a
    next update is refused), ``sevsnp.ask.revoked``, ``sevsnp.vcek.revoked``.
    """
    if crl.issuer != chain.ark.subject:
        raise AttestationError(
            "sevsnp.crl.signature",
            "CRL not issued by the ARK",
            expected=chain.ark.subject.rfc4514_string(),
            found=crl.issuer.rfc4514_string(),
        )
    key = chain.ark.public_key()
    if crl.signature_algorithm_oid != SignatureAlgorithmOID.RSASSA_PSS or not isinstance(
        key, rsa.RSAPublicKey
    ):
        raise AttestationError("sevsnp.crl.signature", "CRL not signed with RSASSA-PSS")
    try:
        key.verify(crl.signature, crl.tbs_certlist_bytes, _PSS, hashes.SHA384())
    except InvalidSignature:
        raise AttestationError("sevsnp.crl.signature", "CRL signature does not verify") from None
    start, end = crl.last_update_utc, crl.next_update_utc
    if end is None or not start <= now <= end:
        raise AttestationError(
            "sevsnp.crl.validity", "CRL not current", expected=f"{start}..{end}", found=now
        )
    for name, cert in (("ask", chain.ask), ("vcek", vcek)):
        if crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None:
            raise AttestationError(
                f"sevsnp.{name}.revoked", f"{name.upper()} is revoked", found=cert.serial_number
            )


def vcek_tcb(vcek: x509.Certificate, product: Product) -> Tcb:
    """The TCB the VCEK was issued for (``sevsnp.vcek.tcb`` on a missing extension)."""
    check = "sevsnp.vcek.tcb"
    try:
        return Tcb(
            bootloader=ext_int(vcek, OID_BL_SPL, check),
            tee=ext_int(vcek, OID_TEE_SPL, check),
            snp=ext_int(vcek, OID_SNP_SPL, check),
            microcode=ext_int(vcek, OID_UCODE_SPL, check),
            fmc=ext_int(vcek, OID_FMC_SPL, check) if product.turin_layout else None,
        )
    except MisuseError:
        raise AttestationError(check, "VCEK TCB component out of range") from None


def vcek_chip_id(vcek: x509.Certificate) -> bytes:
    """The VCEK's hwID extension (``sevsnp.vcek.tcb`` if missing)."""
    return ext_bytes(vcek, OID_HWID, "sevsnp.vcek.tcb")


def vcek_der(vcek: x509.Certificate) -> bytes:
    """DER of a certificate (small helper for callers building evidence)."""
    return vcek.public_bytes(serialization.Encoding.DER)
