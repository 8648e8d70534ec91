"""The node's hardware: it signs evidence binding a node key (DESIGN.md, "Real hardware").

Four platforms, one interface (:class:`NodeHardware`):

* ``simulated`` (:class:`Hardware`): a :class:`~privproc.attestation.simulated.SimulatedVendor`
  derived from a seed file plays the vendor; the machine's endorsement key is derived
  for this node's chip id. Anyone holding the seed can forge evidence: the seed stands
  in for silicon and lives outside the node's code (``privproc up`` writes it under
  ``platform/``).
* ``sev-snp-emulated`` (:class:`EmulatedSnpHardware`): an emulated AMD secure processor
  (:mod:`privproc.attestation.emulated`) whose ARK/ASK keys live in a folder outside
  the node's code (``platform/sev-snp-emulated/``); at boot it issues this chip's VCEK
  (what AMD's KDS serves), then signs real-format SNP reports; with ``--emulated-gpu DIR``
  an emulated H100 (root in ``platform/nvidia-cc-emulated/``) signs an SPDM report per
  evidence whose nonce is the first 32 bytes of the SNP REPORT_DATA.
* ``tdx-emulated`` (:class:`EmulatedTdxHardware`): an emulated Intel TDX platform
  (:mod:`privproc.attestation.emulated.tdx`) whose root, PCK CA and TCB-signing keys live
  in ``platform/tdx-emulated/``; at boot it issues this platform's PCK certificate (with
  Intel's SGX extensions) and the DCAP collateral (what Intel's PCS serves), then signs
  DCAP v4 quotes whose MRTD is the release measurement.
* ``sev-snp`` / ``tdx`` (:class:`TsmHardware`): the Linux configfs-tsm interface of a real
  confidential VM (:mod:`privproc.attestation.sevsnp.configfs`,
  :mod:`privproc.attestation.tdx.configfs`); the VCEK (SNP, when the host supplies no
  certificate table) or the DCAP collateral (TDX) are read from files fetched at boot,
  so nothing is fetched at request time (fetch first, verify offline).

``evidence(node_key, now, extra=b"")`` binds ``freshness_value(now, extra)``: ``extra``
is what the node could not know in advance (a witnessed checkpoint's hash, a
verifier's nonce).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from privproc.attestation import Evidence, Tcb, binding, freshness_value
from privproc.attestation.emulated import EmulatedAmd, EmulatedChip, EmulatedGpu
from privproc.attestation.emulated.tdx import (
    OUT_OF_DATE,
    UP_TO_DATE,
    EmulatedIntel,
    EmulatedTd,
    emulated_td_measurement,
)
from privproc.attestation.nvgpu.verify import gpu_nonce
from privproc.attestation.simulated import SimulatedMachine, SimulatedVendor
from privproc.errors import ConfigError, MisuseError

__all__ = [
    "EMULATED_AMD_DIR",
    "EMULATED_INTEL_DIR",
    "EMULATED_NVIDIA_DIR",
    "NODE_PLATFORMS",
    "NODE_TCB",
    "TDX_TCB_LEVELS",
    "VENDOR_EPOCH",
    "EmulatedSnpHardware",
    "EmulatedTdxHardware",
    "Hardware",
    "NodeHardware",
    "TsmHardware",
    "chip_id_of",
    "load_emulated_amd",
    "load_emulated_gpu",
    "load_emulated_intel",
    "load_vendor",
    "parse_tcb",
    "write_emulated_amd",
    "write_emulated_intel",
    "write_emulated_nvidia",
]

#: The simulated vendor root's notBefore (fixed, so the same seed gives the same root).
VENDOR_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
#: The TCB every simulated (and, by default, emulated SEV-SNP) node is certified at.
NODE_TCB = Tcb(bootloader=4, tee=0, snp=22, microcode=213)
#: The platforms a node can run on (``--platform``).
NODE_PLATFORMS = ("simulated", "sev-snp-emulated", "tdx-emulated", "sev-snp", "tdx")
#: The folder under ``$PRIVPROC_HOME/platform/`` holding the emulated AMD's keys.
EMULATED_AMD_DIR = "sev-snp-emulated"
_AMD_KEY = "amd.key"
_AMD_CHAIN = "ask_ark.pem"
#: The folder under ``$PRIVPROC_HOME/platform/`` holding the emulated NVIDIA root.
EMULATED_NVIDIA_DIR = "nvidia-cc-emulated"
_NV_KEY = "root.key"
_NV_CERT = "root.pem"
#: The folder under ``$PRIVPROC_HOME/platform/`` holding the emulated Intel's keys.
EMULATED_INTEL_DIR = "tdx-emulated"
_INTEL_KEY = "intel.key"
_INTEL_CERTS = "intel.pem"
#: The TCB levels an emulated TDX platform can be certified at (``--tcb``): the emulated
#: collateral calls them ``UpToDate`` and ``OutOfDate``.
TDX_TCB_LEVELS = {"up-to-date": UP_TO_DATE, "out-of-date": OUT_OF_DATE}


class NodeHardware(Protocol):
    """What a node needs of its hardware: its advertised measurement and fresh evidence."""

    @property
    def measurement(self) -> bytes:
        """The launch measurement the node advertises (a release record must carry it)."""
        ...

    def evidence(self, node_key: bytes, now: datetime, extra: bytes = b"") -> Evidence:
        """Fresh evidence binding ``node_key`` and ``freshness_value(now, extra)``."""
        ...

    def gpu_document(self, _evidence: Evidence) -> dict[str, str] | None:
        """The GPU's report for the evidence (its nonce bound to the CPU report), if any."""
        ...


def chip_id_of(node_id: str, platform: str) -> bytes:
    """A stable 64-byte chip id for an emulated or simulated node."""
    return hashlib.sha512(f"privproc {platform} chip\x00".encode() + node_id.encode()).digest()


def parse_tcb(text: str) -> Tcb:
    """``bl=4,tee=0,snp=22,ucode=213`` (the CLI's TCB form) as a :class:`Tcb`."""
    names = {"bl": "bootloader", "tee": "tee", "snp": "snp", "ucode": "microcode", "fmc": "fmc"}
    try:
        fields = {names[k]: int(v) for k, v in (p.split("=", 1) for p in text.split(","))}
        return Tcb(**fields)
    except (KeyError, ValueError, TypeError, MisuseError):
        raise ConfigError(f"TCB must look like bl=4,tee=0,snp=22,ucode=213: {text!r}") from None


def load_vendor(seed_file: Path) -> SimulatedVendor:
    """The simulated vendor whose keys derive from the seed in ``seed_file``."""
    try:
        seed = seed_file.read_bytes()
    except OSError:
        raise ConfigError(f"platform seed not readable: {seed_file}") from None
    if len(seed) < 32:
        raise ConfigError("platform seed: need at least 32 bytes")
    return SimulatedVendor.from_seed(seed, not_before=VENDOR_EPOCH)


def write_emulated_amd(folder: Path) -> EmulatedAmd:
    """Create the emulated AMD hierarchy in ``folder`` once; load it after that."""
    key, chain = folder / _AMD_KEY, folder / _AMD_CHAIN
    if key.exists() and chain.exists():
        return load_emulated_amd(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    amd = EmulatedAmd.generate(not_before=VENDOR_EPOCH)
    key.touch(mode=0o600)
    key.write_bytes(amd.private_pem())
    chain.write_bytes(amd.chain_pem())
    return amd


def load_emulated_amd(folder: Path) -> EmulatedAmd:
    """The emulated AMD hierarchy :func:`write_emulated_amd` wrote in ``folder``."""
    try:
        return EmulatedAmd.from_pem(
            (folder / _AMD_KEY).read_bytes(), (folder / _AMD_CHAIN).read_bytes()
        )
    except OSError:
        raise ConfigError(f"emulated AMD keys not readable under {folder}") from None


@dataclass(frozen=True, slots=True)
class Hardware:
    """One simulated machine: makes evidence for a key and a measurement."""

    machine: SimulatedMachine
    measurement: bytes
    debug: bool = False

    @classmethod
    def for_node(
        cls, vendor: SimulatedVendor, node_id: str, measurement: bytes, *, debug: bool = False
    ) -> Hardware:
        chip_id = hashlib.sha512(b"privproc simulated chip\x00" + node_id.encode()).digest()
        return cls(vendor.machine(chip_id=chip_id, tcb=NODE_TCB), measurement, debug)

    def evidence(self, node_key: bytes, now: datetime, extra: bytes = b"") -> Evidence:
        """Fresh evidence binding ``node_key`` at ``now`` (and ``extra``)."""
        return self.machine.evidence(
            node_key=node_key,
            measurement=self.measurement,
            timestamp=now,
            debug=self.debug,
            nonce=extra,
        )

    def gpu_document(self, _evidence: Evidence) -> dict[str, str] | None:
        """No GPU on the simulated platform."""
        return None


@dataclass(frozen=True, slots=True)
class EmulatedSnpHardware:
    """An emulated SEV-SNP chip: real-format reports, a generated AMD chain.

    ``launch_digest`` is what the emulated firmware measured at launch and reports as
    MEASUREMENT (by default the release measurement of the node's code, as
    ``privproc release`` records it); ``measurement`` is what the node advertises. On
    real hardware the host chooses the image and the AMD-SP measures it; a node that
    advertises one measurement while its report carries another is refused by the
    device (``policy.measurement``).
    """

    chip: EmulatedChip
    measurement: bytes
    launch_digest: bytes
    debug: bool = False
    gpu: EmulatedGpu | None = None

    @classmethod
    def for_node(
        cls,
        amd: EmulatedAmd,
        node_id: str,
        measurement: bytes,
        *,
        tcb: Tcb = NODE_TCB,
        launch_digest: bytes | None = None,
        debug: bool = False,
        gpu: EmulatedGpu | None = None,
    ) -> EmulatedSnpHardware:
        chip = amd.chip(chip_id=chip_id_of(node_id, "sev-snp"), tcb=tcb, not_before=VENDOR_EPOCH)
        return cls(chip, measurement, launch_digest or measurement, debug, gpu)

    def evidence(self, node_key: bytes, now: datetime, extra: bytes = b"") -> Evidence:
        """Fresh evidence: REPORT_DATA binds ``node_key`` and ``freshness_value(now, extra)``."""
        now = now.replace(microsecond=0)
        return self.chip.evidence(
            node_key=node_key,
            measurement=self.launch_digest,
            freshness=freshness_value(now, extra),
            timestamp=now,
            debug=self.debug,
        )

    def gpu_document(self, evidence: Evidence) -> dict[str, str] | None:
        """The emulated GPU's SPDM report, its nonce the first 32 bytes of REPORT_DATA."""
        if self.gpu is None:
            return None
        nonce = gpu_nonce(binding(evidence.node_key, evidence.freshness))
        return {
            "report": base64.b64encode(self.gpu.report(nonce)).decode(),
            "chain": self.gpu.chain_pem().decode("ascii"),
        }


def write_emulated_intel(folder: Path) -> EmulatedIntel:
    """Create the emulated Intel PKI in ``folder`` once; load it after that."""
    key, certs = folder / _INTEL_KEY, folder / _INTEL_CERTS
    if key.exists() and certs.exists():
        return load_emulated_intel(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    intel = EmulatedIntel.generate(not_before=VENDOR_EPOCH)
    keys_pem, certs_pem = intel.files()
    key.touch(mode=0o600)
    key.write_bytes(keys_pem)
    certs.write_bytes(certs_pem)
    return intel


def load_emulated_intel(folder: Path) -> EmulatedIntel:
    """The emulated Intel PKI :func:`write_emulated_intel` wrote in ``folder``."""
    try:
        return EmulatedIntel.from_files(
            (folder / _INTEL_KEY).read_bytes(), (folder / _INTEL_CERTS).read_bytes()
        )
    except OSError:
        raise ConfigError(f"emulated Intel keys not readable under {folder}") from None


@dataclass(frozen=True, slots=True)
class EmulatedTdxHardware:
    """An emulated TDX platform: DCAP v4 quotes, a generated Intel PKI.

    ``image`` is what the emulated TDX module measured into MRTD (by default the release
    measurement of the node's code); ``measurement`` is what the node advertises, the
    ``td_measurement`` of MRTD and RTMR0..3 (:func:`emulated_td_measurement` of the
    release measurement), the value a ``tdx`` release records. ``collateral`` is the
    DCAP collateral issued at boot (valid 30 days), served in every evidence: fetched
    first, verified offline.
    """

    td: EmulatedTd
    measurement: bytes
    image: bytes
    collateral: bytes
    debug: bool = False

    @classmethod
    def for_node(
        cls,
        intel: EmulatedIntel,
        node_id: str,
        measurement: bytes,
        *,
        now: datetime,
        tcb: str = "up-to-date",
        image: bytes | None = None,
        debug: bool = False,
    ) -> EmulatedTdxHardware:
        if tcb not in TDX_TCB_LEVELS:
            raise ConfigError(f"a tdx-emulated TCB is one of {', '.join(TDX_TCB_LEVELS)}")
        ppid = chip_id_of(node_id, "tdx")[:16]
        td = intel.platform(ppid=ppid, not_before=VENDOR_EPOCH, tcb=TDX_TCB_LEVELS[tcb])
        collateral = intel.collateral(now=now.replace(microsecond=0))
        advertised = emulated_td_measurement(measurement)
        return cls(td, advertised, image or measurement, collateral, debug)

    def evidence(self, node_key: bytes, now: datetime, extra: bytes = b"") -> Evidence:
        """Fresh evidence: REPORTDATA binds ``node_key`` and ``freshness_value(now, extra)``."""
        now = now.replace(microsecond=0)
        return self.td.evidence(
            node_key=node_key,
            image=self.image,
            freshness=freshness_value(now, extra),
            timestamp=now,
            collateral=self.collateral,
            debug=self.debug,
        )

    def gpu_document(self, _evidence: Evidence) -> dict[str, str] | None:
        """No GPU on the emulated TDX platform."""
        return None


def write_emulated_nvidia(folder: Path) -> EmulatedGpu:
    """Create the emulated NVIDIA root in ``folder`` once; a GPU under it (for its root)."""
    key, cert = folder / _NV_KEY, folder / _NV_CERT
    if not (key.exists() and cert.exists()):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        k, c = EmulatedGpu.generate(not_before=VENDOR_EPOCH).root_files()
        key.touch(mode=0o600)
        key.write_bytes(k)
        cert.write_bytes(c)
    return load_emulated_gpu(folder)


def load_emulated_gpu(folder: Path, *, devtools: bool = False) -> EmulatedGpu:
    """A new emulated GPU identity under the root in ``folder``."""
    try:
        key, cert = (folder / _NV_KEY).read_bytes(), (folder / _NV_CERT).read_bytes()
    except OSError:
        raise ConfigError(f"emulated NVIDIA root not readable under {folder}") from None
    return EmulatedGpu.from_root(key, cert, not_before=VENDOR_EPOCH, devtools=devtools)


@dataclass(frozen=True, slots=True)
class TsmHardware:
    """A real SEV-SNP or TDX guest, through configfs-tsm (``/sys/kernel/config/tsm/report``).

    ``endorsement``: for SEV-SNP the VCEK (DER) fetched from AMD's KDS at boot, used
    when the host's certificate table is empty; for TDX the DCAP collateral JSON
    fetched from Intel's PCS/PCCS at boot (required). ``measurement``: the launch
    measurement this guest reports (SNP MEASUREMENT, TDX ``td_measurement``), read
    from its own first report at boot (:meth:`boot`).
    """

    platform: str
    measurement: bytes
    endorsement: bytes | None
    root: Path

    @classmethod
    def boot(cls, platform: str, *, endorsement: bytes | None, root: Path) -> TsmHardware:
        """Ask the hardware for a first report and read its launch measurement from it."""
        probe = cls(platform, b"", endorsement, root)
        evidence = probe.evidence(b"\x00" * 32, datetime.now(UTC))
        if platform == "sev-snp":
            from privproc.attestation.sevsnp.report import parse_report

            measurement = parse_report(evidence.report).measurement
        else:
            from privproc.attestation.tdx.quote import td_measurement_of_quote

            measurement = td_measurement_of_quote(evidence.report)
        return cls(platform, measurement, endorsement, root)

    def evidence(self, node_key: bytes, now: datetime, extra: bytes = b"") -> Evidence:
        """Fresh evidence from the kernel (``tsm.*`` checks on what it returns)."""
        now = now.replace(microsecond=0)
        if self.platform == "sev-snp":
            from privproc.attestation.sevsnp.configfs import sevsnp_evidence

            return sevsnp_evidence(
                node_key, timestamp=now, nonce=extra, root=self.root, vcek=self.endorsement
            )
        from privproc.attestation.tdx.configfs import tdx_evidence

        if self.endorsement is None:
            raise ConfigError("a TDX node needs its DCAP collateral (--collateral FILE)")
        return tdx_evidence(
            node_key, timestamp=now, collateral=self.endorsement, nonce=extra, root=self.root
        )

    def gpu_document(self, _evidence: Evidence) -> dict[str, str] | None:
        """GPU evidence on real hardware is not produced yet (docs/attestation.md)."""
        return None
