"""Parse an AMD SEV-SNP ATTESTATION_REPORT.

AMD "SEV Secure Nested Paging Firmware ABI Specification" (publication 56860),
Table "ATTESTATION_REPORT Structure". 0x4A0 bytes, little-endian::

    0x000 VERSION u32          0x0E0 ID_KEY_DIGEST 48     0x1E8 CURRENT_BUILD/MINOR/MAJOR u8 x3
    0x004 GUEST_SVN u32        0x110 AUTHOR_KEY_DIGEST 48 0x1EB reserved
    0x008 POLICY u64           0x140 REPORT_ID 32         0x1EC COMMITTED_BUILD/MINOR/MAJOR u8 x3
    0x010 FAMILY_ID 16         0x160 REPORT_ID_MA 32      0x1EF reserved
    0x020 IMAGE_ID 16          0x180 REPORTED_TCB u64     0x1F0 LAUNCH_TCB u64
    0x030 VMPL u32             0x188 CPUID_FAM_ID u8 (v3+) 0x1F8 LAUNCH_MIT_VECTOR u64 (v5+)
    0x034 SIGNATURE_ALGO u32   0x189 CPUID_MOD_ID u8 (v3+) 0x200 CURRENT_MIT_VECTOR u64 (v5+)
    0x038 CURRENT_TCB u64      0x18A CPUID_STEP u8 (v3+)   ....  reserved
    0x040 PLATFORM_INFO u64    0x18B reserved              0x2A0 SIGNATURE (R 72 LE, S 72 LE,
    0x048 AUTHOR_KEY_EN b0,    0x1A0 CHIP_ID 64                  reserved 368)
          MASK_CHIP_KEY b1,    0x1E0 COMMITTED_TCB u64
          SIGNING_KEY b2..4
    0x04C reserved
    0x050 REPORT_DATA 64
    0x090 MEASUREMENT 48
    0x0C0 HOST_DATA 32

The signature (ECDSA P-384 with SHA-384) covers bytes 0x000..0x29F. Reserved
ranges must be zero. Versions 2 to 5 parse; TCB fields stay raw here because
their layout depends on the product (family 19h or 1Ah,
:class:`privproc.attestation.tcb.Tcb`). The parser raises only
:class:`~privproc.errors.DecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass

from privproc.errors import DecodeError

__all__ = [
    "MAX_VERSION",
    "MIN_VERSION",
    "POLICY_DEBUG_BIT",
    "REPORT_SIZE",
    "SIGNATURE_OFFSET",
    "SIGN_ECDSA_P384_SHA384",
    "SnpReport",
    "parse_report",
]

REPORT_SIZE = 0x4A0
SIGNATURE_OFFSET = 0x2A0
MIN_VERSION = 2
MAX_VERSION = 5
#: SIGNATURE_ALGO value for ECDSA P-384 with SHA-384 (56860, "Signature Algorithms").
SIGN_ECDSA_P384_SHA384 = 1
#: Guest policy bit 19: the host may debug the guest (56860, "Guest Policy").
POLICY_DEBUG_BIT = 1 << 19
_POLICY_RESERVED_ONE = 1 << 17
_POLICY_MBZ = ~((1 << 26) - 1) & ((1 << 64) - 1)
_COMPONENT = 72


def _u(data: bytes, off: int, size: int) -> int:
    return int.from_bytes(data[off : off + size], "little")


def _mbz(data: bytes, lo: int, hi: int) -> None:
    if any(data[lo:hi]):
        raise DecodeError(f"SEV-SNP report: reserved bytes {lo:#x}..{hi:#x} not zero")


@dataclass(frozen=True, slots=True)
class SnpReport:
    """A parsed ATTESTATION_REPORT; field names follow 56860. ``signed`` is 0x0..0x29F."""

    version: int
    guest_svn: int
    policy: int
    family_id: bytes
    image_id: bytes
    vmpl: int
    signature_algo: int
    current_tcb: int
    platform_info: int
    author_key_en: bool
    mask_chip_key: bool
    signing_key: int
    report_data: bytes
    measurement: bytes
    host_data: bytes
    id_key_digest: bytes
    author_key_digest: bytes
    report_id: bytes
    report_id_ma: bytes
    reported_tcb: int
    cpuid_fam_id: int | None
    cpuid_mod_id: int | None
    cpuid_step: int | None
    chip_id: bytes
    committed_tcb: int
    current_build: int
    current_minor: int
    current_major: int
    committed_build: int
    committed_minor: int
    committed_major: int
    launch_tcb: int
    signature_r: int
    signature_s: int
    signed: bytes

    @property
    def debug(self) -> bool:
        """Guest policy DEBUG bit."""
        return bool(self.policy & POLICY_DEBUG_BIT)


def parse_report(data: bytes) -> SnpReport:
    """Parse and structurally check an ATTESTATION_REPORT (module docstring)."""
    if not isinstance(data, bytes) or len(data) != REPORT_SIZE:
        raise DecodeError(f"SEV-SNP report: {len(data)} bytes, expected {REPORT_SIZE}")
    version = _u(data, 0x00, 4)
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise DecodeError(f"SEV-SNP report: unsupported version {version}")
    policy = _u(data, 0x08, 8)
    if not policy & _POLICY_RESERVED_ONE or policy & _POLICY_MBZ:
        raise DecodeError(f"SEV-SNP report: malformed guest policy {policy:#x}")
    signature_algo = _u(data, 0x34, 4)
    if signature_algo != SIGN_ECDSA_P384_SHA384:
        raise DecodeError(f"SEV-SNP report: unknown signature algorithm {signature_algo}")
    signer = _u(data, 0x48, 4)
    if signer >> 5:
        raise DecodeError("SEV-SNP report: reserved signer-info bits set")
    _mbz(data, 0x4C, 0x50)
    fam: int | None = None
    mod: int | None = None
    step: int | None = None
    if version >= 3:
        fam, mod, step = data[0x188], data[0x189], data[0x18A]
        _mbz(data, 0x18B, 0x1A0)
    else:
        _mbz(data, 0x188, 0x1A0)
    _mbz(data, 0x1EB, 0x1EC)
    _mbz(data, 0x1EF, 0x1F0)
    _mbz(data, 0x208 if version >= 5 else 0x1F8, SIGNATURE_OFFSET)
    sig = data[SIGNATURE_OFFSET:]
    _mbz(sig, 2 * _COMPONENT, len(sig))
    return SnpReport(
        version=version,
        guest_svn=_u(data, 0x04, 4),
        policy=policy,
        family_id=data[0x10:0x20],
        image_id=data[0x20:0x30],
        vmpl=_u(data, 0x30, 4),
        signature_algo=signature_algo,
        current_tcb=_u(data, 0x38, 8),
        platform_info=_u(data, 0x40, 8),
        author_key_en=bool(signer & 1),
        mask_chip_key=bool(signer & 2),
        signing_key=(signer >> 2) & 7,
        report_data=data[0x50:0x90],
        measurement=data[0x90:0xC0],
        host_data=data[0xC0:0xE0],
        id_key_digest=data[0xE0:0x110],
        author_key_digest=data[0x110:0x140],
        report_id=data[0x140:0x160],
        report_id_ma=data[0x160:0x180],
        reported_tcb=_u(data, 0x180, 8),
        cpuid_fam_id=fam,
        cpuid_mod_id=mod,
        cpuid_step=step,
        chip_id=data[0x1A0:0x1E0],
        committed_tcb=_u(data, 0x1E0, 8),
        current_build=data[0x1E8],
        current_minor=data[0x1E9],
        current_major=data[0x1EA],
        committed_build=data[0x1EC],
        committed_minor=data[0x1ED],
        committed_major=data[0x1EE],
        launch_tcb=_u(data, 0x1F0, 8),
        signature_r=_u(sig, 0, _COMPONENT),
        signature_s=_u(sig, _COMPONENT, _COMPONENT),
        signed=data[:SIGNATURE_OFFSET],
    )
