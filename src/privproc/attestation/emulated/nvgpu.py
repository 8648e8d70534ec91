"""An emulated NVIDIA H100 in confidential-computing mode: SPDM 1.1 reports, generated chain.

Reports are the transcript :mod:`privproc.attestation.nvgpu.spdm` parses (DMTF DSP0274
1.1.0 §10.11): a signed GET_MEASUREMENTS request for all measurements with the
verifier's 32-byte nonce, and the MEASUREMENTS response with one DMTF measurement block
per index (DMTFSpecMeasurementValueType 0x01, a 48-byte SHA-384 value), a responder
nonce, the opaque data and an ECDSA P-384 / SHA-384 signature (r || s, big-endian) over
every byte before it, by the leaf key. The chain is leaf -> emulated "NVIDIA Device Identity CA"
(ECDSA P-384, SHA-384, organization :data:`EMULATED_NVIDIA_ORG`).

Measurements (an emulation convention, docs/attestation.md "GPU"): indices 1..8 are
SHA-384 of fixed labels, except index :data:`CC_STATE_INDEX`, which measures the
confidential-computing configuration (``cc-mode=on devtools=off`` or ``devtools=on``):
a GPU in devtools mode therefore does not match the reference digests a release
records for CC mode (``nvgpu.measurement``), as real H100 measurements differ between
those modes and NVIDIA's RIMs hold the CC-mode values.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from privproc.errors import ConfigError, MisuseError

__all__ = [
    "CC_STATE_INDEX",
    "EMULATED_NVIDIA_ORG",
    "EmulatedGpu",
    "golden_measurements",
]

#: The organization of every emulated NVIDIA certificate name (never NVIDIA's).
EMULATED_NVIDIA_ORG = "privproc emulated NVIDIA (test root, not NVIDIA)"
#: The measurement index that covers the CC mode / devtools configuration.
CC_STATE_INDEX = 2
_INDICES = range(1, 9)


def golden_measurements(*, devtools: bool = False) -> dict[int, bytes]:
    """The emulated GPU's measurements (CC mode on; devtools as given)."""
    out = {}
    for index in _INDICES:
        label = f"privproc emulated H100 measurement {index}".encode()
        if index == CC_STATE_INDEX:
            label += b" cc-mode=on devtools=" + (b"on" if devtools else b"off")
        out[index] = hashlib.sha384(label).digest()
    return out


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, EMULATED_NVIDIA_ORG),
        ]
    )


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@dataclass(frozen=True, slots=True)
class EmulatedGpu:
    """An emulated GPU: its identity key and certificate, and the emulated root."""

    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    leaf_key: ec.EllipticCurvePrivateKey
    leaf: x509.Certificate
    devtools: bool = False

    @classmethod
    def generate(cls, *, not_before: datetime, devtools: bool = False) -> EmulatedGpu:
        """A fresh root and GPU identity (ECDSA P-384, valid 25 years)."""
        root_key = ec.generate_private_key(ec.SECP384R1())
        leaf_key = ec.generate_private_key(ec.SECP384R1())
        end = not_before + timedelta(days=25 * 365)
        root_name = _name("NVIDIA Device Identity CA")
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(root_key, hashes.SHA384())
        )
        return cls(
            root_key, root, leaf_key, cls._leaf(root_key, root, leaf_key, not_before), devtools
        )

    @staticmethod
    def _leaf(
        root_key: ec.EllipticCurvePrivateKey,
        root: x509.Certificate,
        leaf_key: ec.EllipticCurvePrivateKey,
        not_before: datetime,
    ) -> x509.Certificate:
        usage = x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=False,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        )
        return (
            x509.CertificateBuilder()
            .subject_name(_name("GH100 A01 GSP FMC LF"))
            .issuer_name(root.subject)
            .public_key(leaf_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before)
            .not_valid_after(root.not_valid_after_utc)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .sign(root_key, hashes.SHA384())
        )

    def root_der(self) -> bytes:
        """The emulated root (DER): what a test trust store holds."""
        return self.root.public_bytes(serialization.Encoding.DER)

    def root_files(self) -> tuple[bytes, bytes]:
        """(root private key PEM, root certificate PEM): the emulated vendor's secret."""
        return _pem(self.root_key), self.root.public_bytes(serialization.Encoding.PEM)

    @classmethod
    def from_root(
        cls, key_pem: bytes, cert_pem: bytes, *, not_before: datetime, devtools: bool = False
    ) -> EmulatedGpu:
        """A new GPU identity under the root :meth:`root_files` wrote (ConfigError if not)."""
        try:
            root_key = serialization.load_pem_private_key(key_pem, None)
            root = x509.load_pem_x509_certificate(cert_pem)
        except ValueError:
            raise ConfigError("emulated NVIDIA root key or certificate does not parse") from None
        if not isinstance(root_key, ec.EllipticCurvePrivateKey):
            raise ConfigError("emulated NVIDIA root key is not ECDSA")
        leaf_key = ec.generate_private_key(ec.SECP384R1())
        return cls(
            root_key, root, leaf_key, cls._leaf(root_key, root, leaf_key, not_before), devtools
        )

    def chain_pem(self) -> bytes:
        """Leaf then root, PEM (the order the verifier takes)."""
        pem = serialization.Encoding.PEM
        return self.leaf.public_bytes(pem) + self.root.public_bytes(pem)

    def report(self, nonce: bytes, *, opaque: bytes = b"") -> bytes:
        """A signed SPDM 1.1 GET_MEASUREMENTS + MEASUREMENTS transcript for ``nonce``."""
        if len(nonce) != 32 or len(opaque) > 0xFFFF:
            raise MisuseError("the nonce is 32 bytes and the opaque data at most 65535")
        request = bytes([0x11, 0xE0, 0x01, 0xFF]) + nonce + bytes([0])
        record = b""
        measurements = golden_measurements(devtools=self.devtools)
        for index, value in measurements.items():
            dmtf = bytes([0x01]) + len(value).to_bytes(2, "little") + value
            record += bytes([index, 0x01]) + len(dmtf).to_bytes(2, "little") + dmtf
        response = (
            bytes([0x11, 0x60, 0x00, 0x00, len(measurements)])
            + len(record).to_bytes(3, "little")
            + record
            + os.urandom(32)
            + len(opaque).to_bytes(2, "little")
            + opaque
        )
        signed = request + response
        r, s = decode_dss_signature(self.leaf_key.sign(signed, ec.ECDSA(hashes.SHA384())))
        return signed + r.to_bytes(48, "big") + s.to_bytes(48, "big")
