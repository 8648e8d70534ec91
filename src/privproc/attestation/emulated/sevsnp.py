"""An emulated AMD: ARK -> ASK -> VCEK and SEV-SNP reports in the exact 56860 format.

Certificates follow AMD's KDS spec (publication 57230): ARK and ASK are RSA-4096
keys, every certificate is signed RSASSA-PSS / SHA-384 / MGF1-SHA-384 / salt 48;
the ARK is self-signed (CN ``ARK-<product>``), the ASK's CN is ``SEV-<product>``,
and the VCEK (CN ``SEV-VCEK``, ECDSA P-384) carries the TCB it was issued for and
the chip's hwID in the extensions of 57230 §3.1
(:mod:`privproc.attestation.sevsnp.certs`). Reports are ATTESTATION_REPORT
version 3 (56860, "ATTESTATION_REPORT Structure"): REPORTED_TCB, COMMITTED_TCB,
LAUNCH_TCB and CURRENT_TCB are the chip's TCB, CPUID family/model are the
product's, SIGNATURE_ALGO 1, and the VCEK signs bytes 0x000..0x29F with ECDSA
P-384 / SHA-384 (R and S as 72-byte little-endian).

Every name carries :data:`EMULATED_ORG` as its organization, so no emulated
certificate is ever mistaken for AMD's: an emulated VCEK checked against AMD's
pinned chain fails ``sevsnp.vcek.chain`` (issuer is not AMD's ASK).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from privproc.attestation._der import encode_small_int
from privproc.attestation.evidence import Evidence, Platform, binding
from privproc.attestation.sevsnp import certs
from privproc.attestation.sevsnp.certs import Chain, Product
from privproc.attestation.sevsnp.report import POLICY_DEBUG_BIT, REPORT_SIZE, SIGNATURE_OFFSET
from privproc.attestation.tcb import Tcb
from privproc.errors import AttestationError, ConfigError, MisuseError

__all__ = ["EMULATED_ORG", "EmulatedAmd", "EmulatedChip"]

#: The organization of every emulated certificate name (never AMD's).
EMULATED_ORG = "privproc emulated AMD (test root, not AMD)"
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
_RSA_BITS = 4096
_CPUID = {Product.MILAN: (0x19, 0x01, 1), Product.GENOA: (0x19, 0x11, 1)}
#: Guest policy: SMT allowed (bit 16) and the must-be-one bit 17 (56860, "Guest Policy").
_POLICY_BASE = (1 << 17) | (1 << 16)
_REPORT_VERSION = 3


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, EMULATED_ORG),
        ]
    )


def _cert(
    subject: x509.Name,
    issuer: x509.Name,
    key: CertificatePublicKeyTypes,
    signer: rsa.RSAPrivateKey,
    *,
    not_before: datetime,
    days: int,
    ca: bool,
    exts: tuple[x509.UnrecognizedExtension, ...] = (),
) -> x509.Certificate:
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    for ext in exts:
        b = b.add_extension(ext, critical=False)
    return b.sign(signer, hashes.SHA384(), rsa_padding=_PSS)


@dataclass(frozen=True, slots=True)
class EmulatedAmd:
    """An emulated AMD key hierarchy for one product: the ARK and ASK keys and certificates."""

    product: Product
    ark_key: rsa.RSAPrivateKey
    ask_key: rsa.RSAPrivateKey
    chain: Chain

    @classmethod
    def generate(cls, *, not_before: datetime, product: Product = Product.MILAN) -> EmulatedAmd:
        """A fresh hierarchy (RSA-4096 ARK and ASK, 25 years like AMD's)."""
        if product not in _CPUID:
            raise MisuseError("the emulated AMD issues Milan or Genoa reports")
        ark_key = rsa.generate_private_key(65537, _RSA_BITS)
        ask_key = rsa.generate_private_key(65537, _RSA_BITS)
        ark_name, ask_name = _name(f"ARK-{product.value}"), _name(f"SEV-{product.value}")
        days = 25 * 365
        ark = _cert(
            ark_name,
            ark_name,
            ark_key.public_key(),
            ark_key,
            not_before=not_before,
            days=days,
            ca=True,
        )
        ask = _cert(
            ask_name,
            ark_name,
            ask_key.public_key(),
            ark_key,
            not_before=not_before,
            days=days,
            ca=True,
        )
        return cls(product, ark_key, ask_key, Chain(ask=ask, ark=ark))

    def chain_pem(self) -> bytes:
        """ASK then ARK, PEM: what AMD's KDS serves as ``cert_chain``; the test trust store."""
        pem = serialization.Encoding.PEM
        return self.chain.ask.public_bytes(pem) + self.chain.ark.public_bytes(pem)

    def private_pem(self) -> bytes:
        """The ARK then the ASK private key (PKCS#8 PEM): the emulated silicon's secret."""
        return b"".join(
            k.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            for k in (self.ark_key, self.ask_key)
        )

    @classmethod
    def from_pem(cls, private_pem: bytes, chain_pem: bytes) -> EmulatedAmd:
        """Load what :meth:`private_pem` and :meth:`chain_pem` wrote (ConfigError if not)."""
        marker = b"-----END PRIVATE KEY-----"
        parts = [p + marker for p in private_pem.split(marker) if p.strip()]
        try:
            keys = [serialization.load_pem_private_key(p.strip(), None) for p in parts]
            chain = Chain.from_pem(chain_pem)
        except (ValueError, TypeError, AttestationError):
            raise ConfigError("emulated AMD: key or chain file does not parse") from None
        rsa_keys = [k for k in keys if isinstance(k, rsa.RSAPrivateKey)]
        if len(keys) != 2 or len(rsa_keys) != 2:
            raise ConfigError("emulated AMD: need the ARK and ASK RSA private keys")
        ark_key, ask_key = rsa_keys
        if chain.ark.public_key() != ark_key.public_key():
            raise ConfigError("emulated AMD: the ARK key is not the chain's ARK")
        product = certs._product_of_test_ark(chain.ark)
        return cls(product, ark_key, ask_key, chain)

    def chip(self, *, chip_id: bytes, tcb: Tcb, not_before: datetime) -> EmulatedChip:
        """A chip with ``chip_id`` and a VCEK for ``tcb`` (what KDS's ``/vcek/v1`` serves)."""
        if len(chip_id) != 64 or tcb.fmc is not None:
            raise MisuseError("a Milan/Genoa chip id is 64 bytes and its TCB has no fmc")
        vcek_key = ec.generate_private_key(ec.SECP384R1())
        exts = (
            x509.UnrecognizedExtension(certs.OID_BL_SPL, encode_small_int(tcb.bootloader)),
            x509.UnrecognizedExtension(certs.OID_TEE_SPL, encode_small_int(tcb.tee)),
            x509.UnrecognizedExtension(certs.OID_SNP_SPL, encode_small_int(tcb.snp)),
            x509.UnrecognizedExtension(certs.OID_UCODE_SPL, encode_small_int(tcb.microcode)),
            x509.UnrecognizedExtension(certs.OID_HWID, chip_id),
        )
        vcek = _cert(
            _name("SEV-VCEK"),
            self.chain.ask.subject,
            vcek_key.public_key(),
            self.ask_key,
            not_before=not_before,
            days=7 * 365,
            ca=False,
            exts=exts,
        )
        return EmulatedChip(self.product, vcek_key, vcek, tcb, chip_id)


@dataclass(frozen=True, slots=True)
class EmulatedChip:
    """One emulated AMD secure processor: signs reports with its VCEK key."""

    product: Product
    vcek_key: ec.EllipticCurvePrivateKey
    vcek: x509.Certificate
    tcb: Tcb
    chip_id: bytes

    def vcek_der(self) -> bytes:
        """The VCEK certificate, DER (the evidence's one endorsement)."""
        return self.vcek.public_bytes(serialization.Encoding.DER)

    def report(self, *, report_data: bytes, measurement: bytes, debug: bool = False) -> bytes:
        """An ATTESTATION_REPORT v3 (56860 layout, module docstring), signed by the VCEK.

        ``measurement`` is the launch digest the emulated firmware reports (48 bytes).
        """
        if len(report_data) != 64 or len(measurement) != 48:
            raise MisuseError("report_data is 64 bytes and measurement 48")
        d = bytearray(REPORT_SIZE)
        d[0x000:0x004] = _REPORT_VERSION.to_bytes(4, "little")
        d[0x004:0x008] = (1).to_bytes(4, "little")  # GUEST_SVN
        policy = _POLICY_BASE | (POLICY_DEBUG_BIT if debug else 0)
        d[0x008:0x010] = policy.to_bytes(8, "little")
        d[0x034:0x038] = (1).to_bytes(4, "little")  # SIGNATURE_ALGO: ECDSA P-384 SHA-384
        tcb = self.tcb.to_u64().to_bytes(8, "little")
        d[0x038:0x040] = tcb  # CURRENT_TCB
        d[0x040:0x048] = (1).to_bytes(8, "little")  # PLATFORM_INFO: SMT enabled
        d[0x048:0x04C] = (0).to_bytes(4, "little")  # SIGNING_KEY 0: VCEK
        d[0x050:0x090] = report_data
        d[0x090:0x0C0] = measurement
        d[0x180:0x188] = tcb  # REPORTED_TCB
        fam, mod, step = _CPUID[self.product]
        d[0x188], d[0x189], d[0x18A] = fam, mod, step
        d[0x1A0:0x1E0] = self.chip_id
        d[0x1E0:0x1E8] = tcb  # COMMITTED_TCB
        d[0x1E8:0x1EB] = bytes([7, 55, 1])  # CURRENT_BUILD / MINOR / MAJOR (1.55 build 7)
        d[0x1EC:0x1EF] = bytes([7, 55, 1])  # COMMITTED_BUILD / MINOR / MAJOR
        d[0x1F0:0x1F8] = tcb  # LAUNCH_TCB
        signed = bytes(d[:SIGNATURE_OFFSET])
        r, s = decode_dss_signature(self.vcek_key.sign(signed, ec.ECDSA(hashes.SHA384())))
        d[0x2A0:0x2E8] = r.to_bytes(72, "little")
        d[0x2E8:0x330] = s.to_bytes(72, "little")
        return bytes(d)

    def evidence(
        self,
        *,
        node_key: bytes,
        measurement: bytes,
        freshness: bytes,
        timestamp: datetime,
        debug: bool = False,
    ) -> Evidence:
        """SEV-SNP :class:`Evidence` whose REPORT_DATA is ``binding(node_key, freshness)``,
        endorsed by the VCEK alone (the device holds the ASK/ARK: pinned or test store)."""
        report = self.report(
            report_data=binding(node_key, freshness), measurement=measurement, debug=debug
        )
        return Evidence(
            Platform.SEV_SNP, report, (self.vcek_der(),), node_key, freshness, timestamp
        )
