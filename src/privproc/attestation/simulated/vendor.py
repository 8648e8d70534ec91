"""The simulated TEE: a software "vendor" and the machines it endorses.

This is the hardware side, for laptops and tests: :class:`SimulatedVendor` holds
a root key (ECDSA P-384) and a self-signed root certificate;
:meth:`SimulatedVendor.machine` certifies a per-machine endorsement key, putting
the machine's TCB and chip id in certificate extensions (as AMD's VCEK does,
KDS spec 57230); :meth:`SimulatedMachine.report` and
:meth:`SimulatedMachine.evidence` make signed reports in the layout of
:mod:`privproc.attestation.simulated.report`.

Keys can be derived from a seed (:meth:`SimulatedVendor.from_seed`) and signatures are
deterministic (RFC 6979), so tests and demos are reproducible byte for byte.
A verifier trusts simulated evidence only when its policy names this vendor's
root (``Policy.simulated_roots``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from privproc.attestation._der import encode_small_int
from privproc.attestation.evidence import Evidence, Platform, binding, freshness_value
from privproc.attestation.simulated.report import encode_body
from privproc.attestation.tcb import Tcb
from privproc.errors import MisuseError

__all__ = [
    "OID_ARC",
    "OID_BL_SPL",
    "OID_HWID",
    "OID_SNP_SPL",
    "OID_TEE_SPL",
    "OID_UCODE_SPL",
    "SimulatedMachine",
    "SimulatedVendor",
]

#: privproc's own OID arc for simulated endorsement extensions (a UUID arc, X.667).
OID_ARC = "2.25.210663051054091692746126238125477727126"
OID_BL_SPL = x509.ObjectIdentifier(OID_ARC + ".1.3.1")
OID_TEE_SPL = x509.ObjectIdentifier(OID_ARC + ".1.3.2")
OID_SNP_SPL = x509.ObjectIdentifier(OID_ARC + ".1.3.3")
OID_UCODE_SPL = x509.ObjectIdentifier(OID_ARC + ".1.3.8")
OID_HWID = x509.ObjectIdentifier(OID_ARC + ".1.4")

# FIPS 186-4 D.1.2.4: the order of P-384's base point.
_P384_N = int(
    "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    16,
)
_DEFAULT_VALIDITY = timedelta(days=3650)


def _derive_key(seed: bytes, label: bytes) -> ec.EllipticCurvePrivateKey:
    h = hashes.Hash(hashes.SHA512())
    h.update(b"privproc simulated key\x00" + label + b"\x00" + seed)
    scalar = int.from_bytes(h.finalize(), "big") % (_P384_N - 1) + 1
    return ec.derive_private_key(scalar, ec.SECP384R1())


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "privproc simulated TEE"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


def _serial(key: ec.EllipticCurvePrivateKey) -> int:
    h = hashes.Hash(hashes.SHA256())
    h.update(
        key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return int.from_bytes(h.finalize()[:16], "big") >> 1 | 1


@dataclass(frozen=True, slots=True)
class SimulatedMachine:
    """One simulated machine: an endorsement key certified by the vendor root."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    chip_id: bytes
    tcb: Tcb

    @property
    def certificate_der(self) -> bytes:
        """The endorsement certificate, DER."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def report(
        self,
        *,
        measurement: bytes,
        report_data: bytes,
        debug: bool = False,
        reported_tcb: Tcb | None = None,
    ) -> bytes:
        """A signed report. ``reported_tcb`` lets tests make the report lie about its TCB."""
        body = encode_body(
            report_data=report_data,
            measurement=measurement,
            chip_id=self.chip_id,
            tcb=reported_tcb or self.tcb,
            debug=debug,
        )
        r, s = decode_dss_signature(
            self.key.sign(body, ec.ECDSA(hashes.SHA384(), deterministic_signing=True))
        )
        return body + r.to_bytes(48, "big") + s.to_bytes(48, "big")

    def evidence(
        self,
        *,
        node_key: bytes,
        measurement: bytes,
        timestamp: datetime,
        nonce: bytes = b"",
        debug: bool = False,
    ) -> Evidence:
        """Evidence binding ``node_key`` at ``timestamp`` (what an enclave node publishes)."""
        ts = timestamp.replace(microsecond=0)
        freshness = freshness_value(ts, nonce)
        report = self.report(
            measurement=measurement, report_data=binding(node_key, freshness), debug=debug
        )
        return Evidence(
            Platform.SIMULATED, report, (self.certificate_der,), node_key, freshness, ts
        )


@dataclass(frozen=True, slots=True)
class SimulatedVendor:
    """A software hardware vendor: a root key and its self-signed certificate.

    ``seed`` (what every key of this vendor derives from) is left out of ``repr()``.
    """

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate
    seed: bytes | None = field(default=None, repr=False)

    @property
    def root_der(self) -> bytes:
        """The root certificate, DER (what ``Policy.simulated_roots`` holds)."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @classmethod
    def from_seed(
        cls,
        seed: bytes,
        *,
        not_before: datetime,
        name: str = "privproc simulated root",
        validity: timedelta = _DEFAULT_VALIDITY,
    ) -> SimulatedVendor:
        """A vendor whose keys derive from ``seed`` (reproducible)."""
        return cls._make(_derive_key(seed, b"root"), seed, not_before, name, validity)

    @classmethod
    def generate(
        cls,
        *,
        not_before: datetime,
        name: str = "privproc simulated root",
        validity: timedelta = _DEFAULT_VALIDITY,
    ) -> SimulatedVendor:
        """A vendor with fresh random keys."""
        return cls._make(ec.generate_private_key(ec.SECP384R1()), None, not_before, name, validity)

    @classmethod
    def _make(
        cls,
        key: ec.EllipticCurvePrivateKey,
        seed: bytes | None,
        not_before: datetime,
        name: str,
        validity: timedelta,
    ) -> SimulatedVendor:
        if not_before.tzinfo is None:
            raise MisuseError("not_before must be timezone-aware")
        subject = _name(name)
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(_serial(key))
            .not_valid_before(not_before)
            .not_valid_after(not_before + validity)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA384(), ecdsa_deterministic=True)
        )
        return cls(key, cert, seed)

    def machine(
        self,
        *,
        chip_id: bytes,
        tcb: Tcb,
        not_before: datetime | None = None,
        validity: timedelta = _DEFAULT_VALIDITY,
    ) -> SimulatedMachine:
        """Certify a new machine with ``chip_id`` (64 bytes) at ``tcb``."""
        if len(chip_id) != 64:
            raise MisuseError("chip_id must be 64 bytes")
        if tcb.fmc is not None:
            raise MisuseError("the simulated platform uses the family 19h TCB layout (no fmc)")
        label = b"machine\x00" + chip_id + tcb.to_u64().to_bytes(8, "little")
        key = (
            _derive_key(self.seed, label)
            if self.seed is not None
            else ec.generate_private_key(ec.SECP384R1())
        )
        start = not_before or self.certificate.not_valid_before_utc
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name("privproc simulated endorsement key"))
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(_serial(key))
            .not_valid_before(start)
            .not_valid_after(start + validity)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        for oid, value in (
            (OID_BL_SPL, tcb.bootloader),
            (OID_TEE_SPL, tcb.tee),
            (OID_SNP_SPL, tcb.snp),
            (OID_UCODE_SPL, tcb.microcode),
        ):
            builder = builder.add_extension(
                x509.UnrecognizedExtension(oid, encode_small_int(value)), critical=False
            )
        builder = builder.add_extension(
            x509.UnrecognizedExtension(OID_HWID, chip_id), critical=False
        )
        return SimulatedMachine(
            key, builder.sign(self.key, hashes.SHA384(), ecdsa_deterministic=True), chip_id, tcb
        )
