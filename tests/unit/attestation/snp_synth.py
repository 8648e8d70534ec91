"""A throw-away AMD-like hierarchy (ARK -> ASK -> VCEK) that signs SEV-SNP reports.

Same algorithms as AMD's (RSASSA-PSS SHA-384 salt 48 for certificates, ECDSA P-384
SHA-384 for reports); tests pin its ARK in place of AMD's with monkeypatch. It
exercises paths no public sample covers: v3 reports, Turin's TCB layout and
8-byte hwID, and reports that bind a privproc node key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from privproc.attestation._der import encode_small_int
from privproc.attestation.sevsnp import certs
from privproc.attestation.sevsnp.certs import Chain, Product
from privproc.attestation.tcb import Tcb

PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA384()), salt_length=48)
START = datetime(2024, 1, 1, tzinfo=UTC)


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "test AMD"),
        ]
    )


def _cert(
    subject: str,
    issuer: str,
    key: CertificatePublicKeyTypes,
    signer: rsa.RSAPrivateKey,
    exts: Sequence[x509.UnrecognizedExtension] = (),
) -> x509.Certificate:
    b = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(START)
        .not_valid_after(START + timedelta(days=3650))
    )
    for e in exts:
        b = b.add_extension(e, critical=False)
    return b.sign(signer, hashes.SHA384(), rsa_padding=PSS)


@dataclass
class FakeAmd:
    product: Product
    ark_key: rsa.RSAPrivateKey
    ask_key: rsa.RSAPrivateKey
    chain: Chain
    vcek_key: ec.EllipticCurvePrivateKey
    vcek: x509.Certificate
    tcb: Tcb
    chip_id: bytes

    @property
    def endorsements(self) -> tuple[bytes, bytes, bytes]:
        der = serialization.Encoding.DER
        return (
            self.vcek.public_bytes(der),
            self.chain.ask.public_bytes(der),
            self.chain.ark.public_bytes(der),
        )

    def pin(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setitem(
            certs.ARK_SHA256,
            self.product,
            self.chain.ark.fingerprint(hashes.SHA256()),
        )

    def report(
        self,
        *,
        report_data: bytes,
        measurement: bytes,
        version: int = 3,
        cpuid: tuple[int, int, int] | None = None,
        debug: bool = False,
        reported_tcb: Tcb | None = None,
        chip_id: bytes | None = None,
        signing_key: int = 0,
    ) -> bytes:
        d = bytearray(0x4A0)
        d[0x00:0x04] = version.to_bytes(4, "little")
        policy = (1 << 17) | (1 << 16) | ((1 << 19) if debug else 0)
        d[0x08:0x10] = policy.to_bytes(8, "little")
        d[0x34:0x38] = (1).to_bytes(4, "little")
        tcb = (reported_tcb or self.tcb).to_u64().to_bytes(8, "little")
        d[0x38:0x40] = tcb
        d[0x48:0x4C] = (signing_key << 2).to_bytes(4, "little")
        d[0x50:0x90] = report_data
        d[0x90:0xC0] = measurement
        d[0x180:0x188] = tcb
        if version >= 3:
            fam, mod, step = (
                cpuid
                or {
                    Product.MILAN: (0x19, 0x01, 1),
                    Product.GENOA: (0x19, 0x11, 1),
                    Product.TURIN: (0x1A, 0x02, 0),
                }[self.product]
            )
            d[0x188], d[0x189], d[0x18A] = fam, mod, step
        d[0x1A0:0x1E0] = chip_id if chip_id is not None else self.chip_id
        d[0x1E0:0x1E8] = tcb
        d[0x1F0:0x1F8] = tcb
        r, s = decode_dss_signature(self.vcek_key.sign(bytes(d[:0x2A0]), ec.ECDSA(hashes.SHA384())))
        d[0x2A0:0x2E8] = r.to_bytes(72, "little")
        d[0x2E8:0x330] = s.to_bytes(72, "little")
        return bytes(d)


def make(product: Product, tcb: Tcb, hwid: bytes) -> FakeAmd:
    ark_key = rsa.generate_private_key(65537, 2048)
    ask_key = rsa.generate_private_key(65537, 2048)
    p = product.value
    ark = _cert(f"ARK-{p}", f"ARK-{p}", ark_key.public_key(), ark_key)
    ask = _cert(f"SEV-{p}", f"ARK-{p}", ask_key.public_key(), ark_key)
    vcek_key = ec.generate_private_key(ec.SECP384R1())
    exts = [
        x509.UnrecognizedExtension(certs.OID_BL_SPL, encode_small_int(tcb.bootloader)),
        x509.UnrecognizedExtension(certs.OID_TEE_SPL, encode_small_int(tcb.tee)),
        x509.UnrecognizedExtension(certs.OID_SNP_SPL, encode_small_int(tcb.snp)),
        x509.UnrecognizedExtension(certs.OID_UCODE_SPL, encode_small_int(tcb.microcode)),
        x509.UnrecognizedExtension(certs.OID_HWID, hwid),
    ]
    if tcb.fmc is not None:
        exts.append(x509.UnrecognizedExtension(certs.OID_FMC_SPL, encode_small_int(tcb.fmc)))
    vcek = _cert("SEV-VCEK", f"SEV-{p}", vcek_key.public_key(), ask_key, exts)
    chip_id = hwid + bytes(64 - len(hwid))
    return FakeAmd(product, ark_key, ask_key, Chain(ask=ask, ark=ark), vcek_key, vcek, tcb, chip_id)


def crl(
    amd: FakeAmd,
    revoked: list[int],
    *,
    last: datetime,
    next_: datetime | None,
    signer: rsa.RSAPrivateKey | None = None,
) -> bytes:
    """A DER CRL issued by the fake ARK (RSASSA-PSS SHA-384), revoking ``revoked`` serials."""
    b = x509.CertificateRevocationListBuilder().issuer_name(amd.chain.ark.subject).last_update(last)
    if next_ is not None:
        b = b.next_update(next_)
    for serial in revoked:
        b = b.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(last).build()
        )
    return b.sign(signer or amd.ark_key, hashes.SHA384(), rsa_padding=PSS).public_bytes(
        serialization.Encoding.DER
    )
