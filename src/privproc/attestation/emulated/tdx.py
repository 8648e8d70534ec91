"""An emulated Intel TDX platform: DCAP quote v4 and collateral under a generated root.

Quote layout (Intel "TDX DCAP Quote Generation Library and Quote Verification Library
API", Appendix "Quote Format", quote v4; all integers little-endian):

* **Header** (48 bytes): version 4, attestation key type 2 (ECDSA-256-with-P-256),
  TEE type 0x81 (TDX), 4 reserved bytes, QE vendor id (Intel's
  ``939A7233F79C4CA9940A0DB3957F0607``), 20 bytes user data (PCE-ID and QE-ID).
* **TD quote body** (584 bytes, TDX Module "TDREPORT" fields): TEE_TCB_SVN, MRSEAM,
  MRSIGNERSEAM, SEAMATTRIBUTES, TDATTRIBUTES (bit 0 DEBUG, bit 28 SEPT_VE_DISABLE),
  XFAM, MRTD, MRCONFIGID, MROWNER, MROWNERCONFIG, RTMR0..3, REPORTDATA.
* **Signature data**: u32 length, the attestation key's ECDSA P-256 signature (r || s,
  big-endian) over header and body, the attestation public key (x || y), and
  certification data type 6 ("QE report certification data") holding the QE report
  (an SGX REPORT body, Intel SDM vol. 3D §38.15 "REPORT"), the PCK key's signature
  over it, the QE authentication data, and certification data type 5: the PCK
  certificate chain as PEM (PCK leaf, PCK Platform CA, root). The QE report's
  REPORTDATA is SHA-256(attestation key || QE authentication data) || 32 zero bytes.

The PCK certificate carries Intel's SGX extensions ("Intel SGX PCK Certificate and
Certificate Revocation List Profile Specification", §1.3.5, OID
``1.2.840.113741.1.13.1``): PPID, TCB (16 CPUSVN components, PCESVN, CPUSVN),
PCE-ID, FMSPC and SGX type. Collateral is dcap-qvl's ``QuoteCollateralV3`` JSON: TCB
info v3 (``id`` TDX) and QE identity v2 (``TD_QE``), each signed (ECDSA P-256 over
the JSON text, r || s hex) by a TCB-signing certificate, the root CA's CRL and the
PCK CA's CRL (DER hex), as Intel's PCS serves them ("Intel SGX and TDX PCS API"
v4, "Get TDX TCB Info", "Get TDX QE Identity").

Every certificate name carries :data:`EMULATED_INTEL_ORG`, never Intel's; the
device verifies these quotes with dcap-qvl (:mod:`privproc.attestation.tdx.verify`)
pinned to the generated root only when its test trust store names it. Pure: keys
and ``now`` in, bytes out.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

from privproc.attestation.evidence import Evidence, Platform, binding
from privproc.attestation.tdx.verify import td_measurement
from privproc.errors import ConfigError, MisuseError

__all__ = [
    "EMULATED_INTEL_ORG",
    "OUT_OF_DATE",
    "UP_TO_DATE",
    "EmulatedIntel",
    "EmulatedTd",
    "TdxTcb",
    "emulated_td_measurement",
    "sgx_extension",
    "td_registers",
]

#: The organization of every emulated Intel certificate name (never Intel's).
EMULATED_INTEL_ORG = "privproc emulated Intel (test root, not Intel)"
_QE_VENDOR_ID = bytes.fromhex("939A7233F79C4CA9940A0DB3957F0607")
_SGX_EXT = "1.2.840.113741.1.13.1"
_FMSPC = bytes.fromhex("B0C06F000000")
_PCE_ID = bytes(2)
# The QE's identity (Intel's TD_QE values as Intel's PCS publishes them).
_QE_MRSIGNER = bytes.fromhex("DC9E2A7C6F948F17474E34A7FC43ED030F7C1563F1BABDDF6340C82E0E54A8C5")
_QE_MRENCLAVE = bytes.fromhex("E5A3A7B5D830C2953B98534C6C59A3A34FDC34E933F7F5898F0A85CF08846BCA")
_QE_ATTRIBUTES = bytes.fromhex("1500000000000000E700000000000000")
_QE_ISVPRODID = 2
_QE_ISVSVN = 4
_QE_AUTH_DATA = bytes(range(32))
_MRSEAM = hashlib.sha384(b"privproc emulated TDX module").digest()
_TD_ATTR_DEBUG = 1 << 0
_TD_ATTR_SEPT_VE_DISABLE = 1 << 28
_XFAM = bytes.fromhex("E702060000000000")
_HEADER_SIZE, _BODY_SIZE = 48, 584
_TCB_VALIDITY = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class TdxTcb:
    """A TDX platform's TCB: the 16 CPUSVN components, PCESVN, and TEE_TCB_SVN."""

    cpu_svn: bytes
    pce_svn: int
    tee_tcb_svn: bytes

    def __post_init__(self) -> None:
        if len(self.cpu_svn) != 16 or len(self.tee_tcb_svn) != 16:
            raise MisuseError("CPUSVN and TEE_TCB_SVN are 16 bytes")
        if not 0 <= self.pce_svn < 1 << 16:
            raise MisuseError("PCESVN is a u16")


#: The TCB level the emulated collateral calls ``UpToDate`` (TDX module 1, SVN 6).
UP_TO_DATE = TdxTcb(bytes([2, 2, 2, 2, 3, 1, 0, 5] + [0] * 8), 11, bytes([6, 1, 3] + [0] * 13))
#: A platform below it: microcode components 1, which the collateral calls ``OutOfDate``.
OUT_OF_DATE = TdxTcb(bytes([1, 1, 2, 2, 3, 1, 0, 5] + [0] * 8), 11, bytes([6, 1, 3] + [0] * 13))


def td_registers(measurement: bytes) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    """MRTD and RTMR0..3 of an emulated TD booting the release ``measurement``.

    MRTD is the release measurement itself (48 bytes, ``measure_release``: the TD's
    initial image); RTMR0..3 are SHA-384 of fixed labels (TD configuration, firmware
    boot, kernel and command line, run time), as a TD whose boot chain is fixed.
    """
    if len(measurement) != 48:
        raise MisuseError("a release measurement is 48 bytes")
    rtmrs = [hashlib.sha384(f"privproc emulated TDX RTMR{i}".encode()).digest() for i in range(4)]
    return measurement, rtmrs[0], rtmrs[1], rtmrs[2], rtmrs[3]


def emulated_td_measurement(measurement: bytes) -> bytes:
    """What a release records for an emulated TD booting ``measurement``:
    :func:`~privproc.attestation.tdx.verify.td_measurement` of :func:`td_registers`."""
    return td_measurement(*td_registers(measurement))


# --- DER, for the SGX extension (X.690 §8: definite lengths) -----------------------------


def _tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        return bytes([tag, n]) + content
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def _oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    body = bytearray([arcs[0] * 40 + arcs[1]])
    for arc in arcs[2:]:
        chunk, rest = [arc & 0x7F], arc >> 7
        while rest:
            chunk.append(0x80 | (rest & 0x7F))
            rest >>= 7
        body += bytes(reversed(chunk))
    return _tlv(0x06, bytes(body))


def _int(value: int) -> bytes:
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _entry(arc: str, value: bytes) -> bytes:
    return _tlv(0x30, _oid(f"{_SGX_EXT}.{arc}") + value)


def sgx_extension(*, ppid: bytes, tcb: TdxTcb, fmspc: bytes = _FMSPC) -> bytes:
    """The DER value of the PCK certificate's SGX extension (PCK profile §1.3.5)."""
    comps = [_entry(f"2.{i + 1}", _int(svn)) for i, svn in enumerate(tcb.cpu_svn)]
    comps.append(_entry("2.17", _int(tcb.pce_svn)))
    comps.append(_entry("2.18", _tlv(0x04, tcb.cpu_svn)))
    return _tlv(
        0x30,
        _entry("1", _tlv(0x04, ppid))
        + _entry("2", _tlv(0x30, b"".join(comps)))
        + _entry("3", _tlv(0x04, _PCE_ID))
        + _entry("4", _tlv(0x04, fmspc))
        + _entry("5", _tlv(0x0A, b"\x00")),  # SGX type: Standard
    )


# --- certificates, CRLs, signatures -------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, EMULATED_INTEL_ORG),
        ]
    )


def _cert(
    subject: x509.Name,
    key: ec.EllipticCurvePublicKey,
    issuer: x509.Certificate | None,
    signer: ec.EllipticCurvePrivateKey,
    *,
    not_before: datetime,
    days: int,
    ca: bool,
    sgx: bytes | None = None,
) -> x509.Certificate:
    usage = x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )
    b = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if issuer is None else issuer.subject)
        .public_key(key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    )
    if sgx is not None:
        oid = x509.ObjectIdentifier(_SGX_EXT)
        b = b.add_extension(x509.UnrecognizedExtension(oid, sgx), critical=False)
    return b.sign(signer, hashes.SHA256())


def _crl(issuer: x509.Certificate, key: ec.EllipticCurvePrivateKey, now: datetime) -> bytes:
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now)
        .next_update(now + _TCB_VALIDITY)
        .add_extension(x509.CRLNumber(1), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.DER)


def _sign_raw(key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """ECDSA P-256 / SHA-256 as r || s, 32 bytes each, big-endian (the quote's form)."""
    r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _pem(*certs: x509.Certificate) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in certs)


def _when(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _sgx_components(cpu_svn: bytes) -> list[dict[str, int]]:
    return [{"svn": b} for b in cpu_svn]


def _tcb_info(now: datetime, fmspc: bytes) -> str:
    """TCB info v3 for TDX (PCS API v4): two platform levels and TDX module 1's identity."""
    up, out = UP_TO_DATE, OUT_OF_DATE
    tdx_comps = [{"svn": b} for b in bytes([5, 0, 2] + [0] * 13)]
    doc = {
        "id": "TDX",
        "version": 3,
        "issueDate": _when(now),
        "nextUpdate": _when(now + _TCB_VALIDITY),
        "fmspc": fmspc.hex().upper(),
        "pceId": _PCE_ID.hex().upper(),
        "tcbType": 0,
        "tcbEvaluationDataNumber": 17,
        "tdxModule": {
            "mrsigner": "00" * 48,
            "attributes": "00" * 8,
            "attributesMask": "FF" * 8,
        },
        "tdxModuleIdentities": [
            {
                "id": "TDX_01",
                "mrsigner": "00" * 48,
                "attributes": "00" * 8,
                "attributesMask": "FF" * 8,
                "tcbLevels": [
                    {
                        "tcb": {"isvsvn": 4},
                        "tcbDate": "2024-03-13T00:00:00Z",
                        "tcbStatus": "UpToDate",
                    },
                    {
                        "tcb": {"isvsvn": 2},
                        "tcbDate": "2023-08-09T00:00:00Z",
                        "tcbStatus": "OutOfDate",
                    },
                ],
            }
        ],
        "tcbLevels": [
            {
                "tcb": {
                    "sgxtcbcomponents": _sgx_components(up.cpu_svn),
                    "pcesvn": up.pce_svn,
                    "tdxtcbcomponents": tdx_comps,
                },
                "tcbDate": "2024-03-13T00:00:00Z",
                "tcbStatus": "UpToDate",
            },
            {
                "tcb": {
                    "sgxtcbcomponents": _sgx_components(out.cpu_svn),
                    "pcesvn": out.pce_svn,
                    "tdxtcbcomponents": tdx_comps,
                },
                "tcbDate": "2018-01-04T00:00:00Z",
                "tcbStatus": "OutOfDate",
                "advisoryIDs": ["INTEL-SA-00106"],
            },
        ],
    }
    return json.dumps(doc, separators=(",", ":"))


def _qe_identity(now: datetime) -> str:
    """QE identity v2 for the TD quoting enclave (``TD_QE``)."""
    doc = {
        "id": "TD_QE",
        "version": 2,
        "issueDate": _when(now),
        "nextUpdate": _when(now + _TCB_VALIDITY),
        "tcbEvaluationDataNumber": 17,
        "miscselect": "00000000",
        "miscselectMask": "FFFFFFFF",
        "attributes": "11000000000000000000000000000000",
        "attributesMask": "FBFFFFFFFFFFFFFF0000000000000000",
        "mrsigner": _QE_MRSIGNER.hex().upper(),
        "isvprodid": _QE_ISVPRODID,
        "tcbLevels": [
            {
                "tcb": {"isvsvn": _QE_ISVSVN},
                "tcbDate": "2024-03-13T00:00:00Z",
                "tcbStatus": "UpToDate",
            }
        ],
    }
    return json.dumps(doc, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class EmulatedIntel:
    """An emulated Intel PKI: root CA, PCK Platform CA and TCB signing certificate."""

    root_key: ec.EllipticCurvePrivateKey
    root: x509.Certificate
    pck_ca_key: ec.EllipticCurvePrivateKey
    pck_ca: x509.Certificate
    tcb_key: ec.EllipticCurvePrivateKey
    tcb_signer: x509.Certificate

    @classmethod
    def generate(cls, *, not_before: datetime) -> EmulatedIntel:
        """A fresh hierarchy (ECDSA P-256 everywhere, as Intel's)."""
        root_key = ec.generate_private_key(ec.SECP256R1())
        root = _cert(
            _name("privproc emulated SGX Root CA"),
            root_key.public_key(),
            None,
            root_key,
            not_before=not_before,
            days=25 * 365,
            ca=True,
        )
        pck_ca_key = ec.generate_private_key(ec.SECP256R1())
        pck_ca = _cert(
            _name("privproc emulated SGX PCK Platform CA"),
            pck_ca_key.public_key(),
            root,
            root_key,
            not_before=not_before,
            days=20 * 365,
            ca=True,
        )
        tcb_key = ec.generate_private_key(ec.SECP256R1())
        tcb_signer = _cert(
            _name("privproc emulated SGX TCB Signing"),
            tcb_key.public_key(),
            root,
            root_key,
            not_before=not_before,
            days=10 * 365,
            ca=False,
        )
        return cls(root_key, root, pck_ca_key, pck_ca, tcb_key, tcb_signer)

    def root_der(self) -> bytes:
        """The root certificate (DER): what a device's test trust store names."""
        return self.root.public_bytes(serialization.Encoding.DER)

    def files(self) -> tuple[bytes, bytes]:
        """(the three private keys, the three certificates), PEM, root first."""
        keys = b"".join(_key_pem(k) for k in (self.root_key, self.pck_ca_key, self.tcb_key))
        certs = _pem(self.root, self.pck_ca, self.tcb_signer).encode("ascii")
        return keys, certs

    @classmethod
    def from_files(cls, keys_pem: bytes, certs_pem: bytes) -> EmulatedIntel:
        """Load what :meth:`files` wrote (ConfigError if it does not fit together)."""
        marker = b"-----END PRIVATE KEY-----"
        parts = [p + marker for p in keys_pem.split(marker) if p.strip()]
        try:
            keys = [serialization.load_pem_private_key(p.strip(), None) for p in parts]
            certs = x509.load_pem_x509_certificates(certs_pem)
        except (ValueError, TypeError):
            raise ConfigError("emulated Intel: key or certificate file does not parse") from None
        ec_keys = [k for k in keys if isinstance(k, ec.EllipticCurvePrivateKey)]
        if len(ec_keys) != 3 or len(keys) != 3 or len(certs) != 3:
            raise ConfigError("emulated Intel: need three EC keys and three certificates")
        if any(c.public_key() != k.public_key() for c, k in zip(certs, ec_keys, strict=True)):
            raise ConfigError("emulated Intel: a key is not its certificate's")
        return cls(ec_keys[0], certs[0], ec_keys[1], certs[1], ec_keys[2], certs[2])

    def collateral(self, *, now: datetime, fmspc: bytes = _FMSPC) -> bytes:
        """The DCAP collateral for ``fmspc`` issued at ``now`` (valid 30 days), dcap-qvl JSON."""
        tcb_info, qe_identity = _tcb_info(now, fmspc), _qe_identity(now)
        doc = {
            "pck_crl_issuer_chain": _pem(self.pck_ca, self.root),
            "root_ca_crl": _crl(self.root, self.root_key, now).hex(),
            "pck_crl": _crl(self.pck_ca, self.pck_ca_key, now).hex(),
            "tcb_info_issuer_chain": _pem(self.tcb_signer, self.root),
            "tcb_info": tcb_info,
            "tcb_info_signature": _sign_raw(self.tcb_key, tcb_info.encode()).hex(),
            "qe_identity_issuer_chain": _pem(self.tcb_signer, self.root),
            "qe_identity": qe_identity,
            "qe_identity_signature": _sign_raw(self.tcb_key, qe_identity.encode()).hex(),
        }
        return json.dumps(doc, indent=1).encode()

    def platform(
        self, *, ppid: bytes, not_before: datetime, tcb: TdxTcb = UP_TO_DATE
    ) -> EmulatedTd:
        """A TDX platform: a PCK certificate for ``ppid`` and ``tcb``, a fresh attestation key."""
        if len(ppid) != 16:
            raise MisuseError("a PPID is 16 bytes")
        pck_key = ec.generate_private_key(ec.SECP256R1())
        pck = _cert(
            _name("privproc emulated SGX PCK Certificate"),
            pck_key.public_key(),
            self.pck_ca,
            self.pck_ca_key,
            not_before=not_before,
            days=7 * 365,
            ca=False,
            sgx=sgx_extension(ppid=ppid, tcb=tcb),
        )
        chain = _pem(pck, self.pck_ca, self.root).encode("ascii")
        return EmulatedTd(pck_key, chain, ec.generate_private_key(ec.SECP256R1()), tcb)


@dataclass(frozen=True, slots=True)
class EmulatedTd:
    """One emulated TDX platform: its PCK key and chain, its QE's attestation key."""

    pck_key: ec.EllipticCurvePrivateKey
    pck_chain_pem: bytes
    attestation_key: ec.EllipticCurvePrivateKey
    tcb: TdxTcb

    def _qe_report(self, attestation_pub: bytes) -> bytes:
        """The QE's SGX REPORT body (SDM vol. 3D §38.15), REPORTDATA binding the key."""
        r = bytearray(384)
        r[0:16] = self.tcb.cpu_svn
        r[48:64] = _QE_ATTRIBUTES
        r[64:96] = _QE_MRENCLAVE
        r[128:160] = _QE_MRSIGNER
        r[256:258] = _QE_ISVPRODID.to_bytes(2, "little")
        r[258:260] = _QE_ISVSVN.to_bytes(2, "little")
        r[320:352] = hashlib.sha256(attestation_pub + _QE_AUTH_DATA).digest()
        return bytes(r)

    def quote(
        self,
        *,
        report_data: bytes,
        registers: tuple[bytes, bytes, bytes, bytes, bytes],
        debug: bool = False,
    ) -> bytes:
        """A DCAP quote v4 (module docstring) for a TD with MRTD/RTMR0..3 ``registers``."""
        if len(report_data) != 64 or any(len(r) != 48 for r in registers):
            raise MisuseError("REPORTDATA is 64 bytes, MRTD and RTMRs 48 each")
        header = bytearray(_HEADER_SIZE)
        header[0:2] = (4).to_bytes(2, "little")
        header[2:4] = (2).to_bytes(2, "little")
        header[4:8] = (0x81).to_bytes(4, "little")
        header[12:28] = _QE_VENDOR_ID
        header[28:44] = hashlib.sha256(self.pck_chain_pem).digest()[:16]  # QE-ID
        attributes = _TD_ATTR_SEPT_VE_DISABLE | (_TD_ATTR_DEBUG if debug else 0)
        mr_td, *rtmrs = registers
        body = (
            self.tcb.tee_tcb_svn
            + _MRSEAM
            + bytes(48)  # MRSIGNERSEAM: zero for Intel's TDX module
            + bytes(8)  # SEAMATTRIBUTES
            + attributes.to_bytes(8, "little")
            + _XFAM
            + mr_td
            + bytes(48 * 3)  # MRCONFIGID, MROWNER, MROWNERCONFIG
            + b"".join(rtmrs)
            + report_data
        )
        signed = bytes(header) + body
        pub = self.attestation_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )[1:]
        qe_report = self._qe_report(pub)
        inner = (
            qe_report
            + _sign_raw(self.pck_key, qe_report)
            + len(_QE_AUTH_DATA).to_bytes(2, "little")
            + _QE_AUTH_DATA
            + (5).to_bytes(2, "little")
            + len(self.pck_chain_pem).to_bytes(4, "little")
            + self.pck_chain_pem
        )
        sig_data = (
            _sign_raw(self.attestation_key, signed)
            + pub
            + (6).to_bytes(2, "little")
            + len(inner).to_bytes(4, "little")
            + inner
        )
        return signed + len(sig_data).to_bytes(4, "little") + sig_data

    def evidence(
        self,
        *,
        node_key: bytes,
        image: bytes,
        freshness: bytes,
        timestamp: datetime,
        collateral: bytes,
        debug: bool = False,
    ) -> Evidence:
        """TDX :class:`Evidence`: REPORTDATA = ``binding(node_key, freshness)``, the TD
        booting the image measured ``image`` (:func:`td_registers`), endorsed by
        ``(collateral,)``."""
        quote = self.quote(
            report_data=binding(node_key, freshness),
            registers=td_registers(image),
            debug=debug,
        )
        return Evidence(Platform.TDX, quote, (collateral,), node_key, freshness, timestamp)
