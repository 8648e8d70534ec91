"""An in-memory privproc world for tests: vendor, nodes, gateway keys, ledger, witnesses.

Built from the real cores (attestation simulated platform, ledger notes and
records, OHTTP key configs) and the directory's bundle code, so the device's
verifier can be driven through every refusal without sockets.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import functools
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc import ohttp
from privproc.attestation import Evidence, Tcb
from privproc.attestation.emulated import EmulatedAmd, EmulatedGpu, golden_measurements
from privproc.attestation.emulated.tdx import EmulatedIntel, emulated_td_measurement
from privproc.attestation.nvgpu.verify import gpu_nonce
from privproc.attestation.sevsnp.report import parse_report
from privproc.attestation.simulated import SimulatedVendor
from privproc.client.verify import Trust
from privproc.directory.bundle import LogView, build_bundle
from privproc.enclave.platform import (
    NODE_TCB,
    VENDOR_EPOCH,
    EmulatedSnpHardware,
    EmulatedTdxHardware,
    Hardware,
)
from privproc.errors import PrivprocError
from privproc.ledger.checkpoint import Checkpoint, sign_checkpoint
from privproc.ledger.cosignature import Cosigner
from privproc.ledger.merkle import MemoryTree
from privproc.ledger.note import Ed25519Signer, Note
from privproc.ledger.records import (
    KeyConfigRecord,
    ReleaseRecord,
    RevocationRecord,
    decode_record,
    encode_record,
    sign_record,
)
from privproc.sealed import SUITE, node_key_id

NOW = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)
ORIGIN = "test.privproc/ledger"
GOOD = hashlib.sha384(b"release 1.0.0").digest()
ROGUE = hashlib.sha384(b"rogue build").digest()


@functools.cache
def emulated_amd() -> EmulatedAmd:
    """One emulated AMD hierarchy per test process (RSA-4096 key generation is slow)."""
    return EmulatedAmd.generate(not_before=VENDOR_EPOCH)


@functools.cache
def emulated_gpu(devtools: bool = False) -> EmulatedGpu:
    """One emulated NVIDIA root and GPU per test process (and one in devtools mode)."""
    base = _base_gpu()
    if not devtools:
        return base
    key, cert = base.root_files()
    return EmulatedGpu.from_root(key, cert, not_before=VENDOR_EPOCH, devtools=True)


@functools.cache
def emulated_intel() -> EmulatedIntel:
    """One emulated Intel PKI per test process."""
    return EmulatedIntel.generate(not_before=VENDOR_EPOCH)


@functools.cache
def _base_gpu() -> EmulatedGpu:
    return EmulatedGpu.generate(not_before=VENDOR_EPOCH)


def _key(seed: int) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes([seed]) * 32)


@dataclass
class NodeSpec:
    name: str
    measurement: bytes = GOOD
    debug: bool = False
    age: timedelta = timedelta(0)
    swap_key: bool = False  # advertise a key other than the bound one
    tcb: Tcb = NODE_TCB  # the emulated SEV-SNP chip's TCB
    tdx_tcb: str = "up-to-date"  # the emulated TDX platform's TCB level
    launch_digest: bytes | None = None  # what the emulated firmware measured, if not GOOD
    gpu_devtools: bool = False  # the emulated GPU runs in devtools mode
    gpu_unbound: bool = False  # the GPU report answers a nonce not bound to the CPU report
    # The model the node names (the release's: zeros); None: the node names none.
    model_digest: bytes | None = bytes(32)
    private_key: bytes = b""
    public_key: bytes = b""


@dataclass
class World:
    """Knobs for one test; ``documents()`` builds what the directory would serve."""

    nodes: list[NodeSpec] = field(
        default_factory=lambda: [NodeSpec("node-1"), NodeSpec("node-2"), NodeSpec("node-3")]
    )
    witnesses_signing: int = 2
    record_key_config: bool = True
    record_release: bool = True
    extra_entries: int = 0
    #: Revocation records appended after the others: (kind, target, signer seed).
    revocations: list[tuple[str, bytes, int]] = field(default_factory=list)
    #: More key-config records after the gateway's: (config, not_before, not_after),
    #: in seconds relative to NOW.
    more_key_configs: list[tuple[ohttp.KeyConfig, int, int]] = field(default_factory=list)
    #: Each key-config record is announced (a quorum-cosigned checkpoint that holds it)
    #: this many seconds before its not_before; None: no announcement in the bundle.
    announce_lead: int | None = 4000
    #: The configs the gateway serves; default: the gateway's own.
    served: list[ohttp.KeyConfig] | None = None
    #: The release's platform: "simulated", "sev-snp" (nodes then run emulated SNP),
    #: "sev-snp+nvidia-cc" (and an emulated GPU) or "tdx" (emulated TDX).
    platform: str = "simulated"
    #: The release's minimum TCB (sev-snp worlds default to the nodes' TCB).
    min_tcb: Tcb | None = None
    #: Whether the device's test trust store holds the emulated vendor roots.
    trust_test_root: bool = True

    def __post_init__(self) -> None:
        self.vendor = SimulatedVendor.from_seed(b"v" * 32, not_before=VENDOR_EPOCH)
        self.log = Ed25519Signer(ORIGIN, _key(1))
        self.witnesses = [Cosigner(f"w{i}.test", _key(10 + i)) for i in range(2)]
        self.publisher = Ed25519Signer("publisher.test", _key(2))
        self.gateway = ohttp.ServerKey.derive(7, b"g" * 32)
        for i, spec in enumerate(self.nodes):
            sk, pk = SUITE.kem.derive_key_pair(bytes([40 + i]) * 32)
            spec.private_key, spec.public_key = sk, pk

    def trust(self, quorum: int = 2) -> Trust:
        return Trust.from_keys(
            vendor_roots=[self.vendor.root_der],
            log_vkey=self.log.verifier().vkey(),
            witness_vkeys=[w.verifier().vkey() for w in self.witnesses],
            quorum=quorum,
            publisher_vkey=self.publisher.verifier().vkey(),
            evidence_max_age=3600,
            cosignature_max_age=3600,
            sevsnp_test_chains=(emulated_amd().chain_pem(),)
            if self.platform.startswith("sev-snp") and self.trust_test_root
            else (),
            nvidia_test_roots=(emulated_gpu().root_der(),)
            if self.platform.endswith("+nvidia-cc") and self.trust_test_root
            else (),
            tdx_test_roots=(emulated_intel().root_der(),)
            if self.platform == "tdx" and self.trust_test_root
            else (),
        )

    @property
    def released(self) -> bytes:
        """The measurement the release records for its platform (GOOD, or the emulated
        TD's ``td_measurement`` of GOOD)."""
        return emulated_td_measurement(GOOD) if self.platform == "tdx" else GOOD

    def entries(self) -> list[bytes]:
        pub = _key(2)
        out = [b"raw entry %d" % i for i in range(self.extra_entries)]
        if self.record_release:
            release = ReleaseRecord(
                component="privproc-enclave",
                version="1.0.0",
                measurements=((self.platform.split("+")[0], self.released),),
                source_revision="0" * 40,
                recipe_digest=bytes(32),
                model_digest=bytes(32),
                issued_at=int(NOW.timestamp()) - 60,
                platform=self.platform,
                min_tcb=self.min_tcb,
                gpu_rims=tuple(sorted(golden_measurements().items()))
                if self.platform.endswith("+nvidia-cc")
                else (),
            )
            out.append(encode_record(sign_record(release, "publisher.test", pub)))
        if self.record_key_config:
            kc = KeyConfigRecord(
                self.gateway.config.encode(),
                int(NOW.timestamp()) - 60,
                int(NOW.timestamp()) + 3600,
            )
            out.append(encode_record(sign_record(kc, "publisher.test", pub)))
        now = int(NOW.timestamp())
        for config, start, end in self.more_key_configs:
            kc = KeyConfigRecord(config.encode(), now + start, now + end)
            out.append(encode_record(sign_record(kc, "publisher.test", pub)))
        for kind, target, signer in self.revocations:
            revocation = RevocationRecord(kind, target, "test", int(NOW.timestamp()) - 30)
            out.append(encode_record(sign_record(revocation, "publisher.test", _key(signer))))
        return out

    def checkpoint_note(self, entries: list[bytes], ts: int | None = None) -> bytes:
        tree = MemoryTree()
        for e in entries:
            tree.append(e)
        cp = Checkpoint(ORIGIN, len(entries), tree.root())
        note = sign_checkpoint(cp, self.log)
        ts = int(NOW.timestamp()) - 5 if ts is None else ts
        cosigs = [w.cosign(cp.text(), ts) for w in self.witnesses[: self.witnesses_signing]]
        return Note(note.text, note.signatures).with_signatures(*cosigs).encode()

    def node_doc(self, spec: NodeSpec, extra: bytes = b"") -> dict[str, Any]:
        hw: Hardware | EmulatedSnpHardware | EmulatedTdxHardware
        if self.platform == "tdx":
            hw = EmulatedTdxHardware.for_node(
                emulated_intel(),
                spec.name,
                spec.measurement,
                now=NOW - timedelta(hours=1),
                tcb=spec.tdx_tcb,
                image=spec.launch_digest,
                debug=spec.debug,
            )
        elif self.platform.startswith("sev-snp"):
            hw = EmulatedSnpHardware.for_node(
                emulated_amd(),
                spec.name,
                spec.measurement,
                tcb=spec.tcb,
                launch_digest=spec.launch_digest,
                debug=spec.debug,
            )
        else:
            hw = Hardware.for_node(self.vendor, spec.name, spec.measurement, debug=spec.debug)
        evidence: Evidence = hw.evidence(spec.public_key, NOW - spec.age, extra)
        advertised = spec.public_key
        if spec.swap_key:
            advertised = SUITE.kem.derive_key_pair(b"x" * 32)[1]
            evidence = dataclasses.replace(evidence, node_key=advertised)
        doc: dict[str, Any] = {
            "node": spec.name,
            "public_key": base64.b64encode(advertised).decode(),
            "key_id": node_key_id(advertised).hex(),
            "measurement": hw.measurement.hex(),
            "evidence": base64.b64encode(evidence.encode()).decode(),
        }
        if spec.model_digest is not None:
            doc["model_digest"] = spec.model_digest.hex()
        if self.platform.endswith("+nvidia-cc"):
            gpu = emulated_gpu(spec.gpu_devtools)
            nonce = gpu_nonce(parse_report(evidence.report).report_data)
            if spec.gpu_unbound:
                nonce = hashlib.sha256(b"another nonce").digest()
            doc["gpu"] = {
                "report": base64.b64encode(gpu.report(nonce)).decode(),
                "chain": gpu.chain_pem().decode(),
            }
        return doc

    def announcements(self, entries: list[bytes]) -> dict[int, bytes]:
        """For each key-config record: a checkpoint of the log up to it, cosigned
        ``announce_lead`` seconds before the record starts."""
        if self.announce_lead is None:
            return {}
        out = {}
        for index, entry in enumerate(entries):
            with contextlib.suppress(PrivprocError):
                record = decode_record(entry).record
                if isinstance(record, KeyConfigRecord):
                    ts = record.not_before - self.announce_lead
                    out[index] = self.checkpoint_note(entries[: index + 1], ts)
        return out

    def documents(self) -> tuple[bytes, bytes]:
        entries = self.entries()
        log = LogView(self.checkpoint_note(entries), entries)
        served = [self.gateway.config] if self.served is None else self.served
        bundle = build_bundle(
            log,
            [c.encode() for c in served],
            [self.node_doc(n) for n in self.nodes],
            self.announcements(entries),
        )
        return ohttp.encode_list(served), bundle


def loads(doc: bytes) -> dict[str, Any]:
    return dict(json.loads(doc))
