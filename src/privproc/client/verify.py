"""Verifying what the directory served, offline and fail closed (DESIGN.md step 3).

Given the fetched key configs and node bundle (:mod:`privproc.directory` format),
the trust anchors and ``now``, :func:`verify_directory` returns the nodes and key
config the device may use, or raises the error of the first failed check:

* ``bundle.*``: the documents parse and agree with each other;
* ``ledger.*`` / ``checkpoint.*`` / ``merkle.*`` / ``record.*`` (privproc.ledger):
  the checkpoint is signed by the log and cosigned by a quorum of fresh witnesses,
  consistent with the newest checkpoint this device has seen, and each record is
  included in it and signed by the publisher;
* ``keyconfig.*``: the OHTTP key config is the one the key-consistency rule makes current
  for everyone now (:mod:`privproc.ledger.keyconsistency`: ``keyconfig.sequence``,
  ``.overlap``, ``.window``, ``.revoked``, ``.announce``, ``.consistency``);
* ``release.missing``: a node's measurement has no release record in the ledger;
* ``ledger.entries.*``: the bundle's copy of every log entry hashes to the checkpoint's
  root (so a revocation cannot be left out);
* ``keyconfig.revoked`` / ``release.revoked``: a revocation record signed by the
  publisher names the key config (SHA-256 of its bytes) or the node's measurement
  (DESIGN.md step 3: "in the ledger and not revoked");
* ``binding.checkpoint`` / ``binding.checkpoint.age`` (when the device requires fresh
  evidence, ``Trust.evidence_checkpoint_max_age``): the node's report data binds
  SHA-256 of a checkpoint note the bundle carries (``witnessed``), that note carries
  the log's signature and a quorum of witness cosignatures, and they are at most that
  many seconds old, so the evidence cannot have been signed before that checkpoint;
* ``release.platform``: the node's evidence is not from the platform its release
  record names;
* ``attestation.*`` / ``binding.*`` / ``policy.*`` / ``simulated.*`` / ``sevsnp.*`` /
  ``tdx.*`` (privproc.attestation): the policy is built from the **release record**
  (its platform, its measurement for that platform, its minimum TCB), never from the
  node's bundle entry, and the evidence goes to that platform's verifier: it chains to
  a vendor root pinned in the package (or, only with the test trust store on, to a
  test root: ``trust.test_store`` in the trail), debug is off, the TCB meets the
  release's minimum, the measurement is the released one, the evidence is fresh, and
  the node key is the one bound in the report;
* ``release.model``: the model the node names (``model_digest``, the SHA-256 of the
  GGUF file a generative node serves) is the release record's; the measurement binds
  the model files themselves.

A node that fails is left out (its failure is in the trail); when no node passes,
the first node failure is raised; when fewer than ``Trust.min_nodes`` (default 2)
pass, ``bundle.too_few_nodes`` is raised (the device never lets K fall to one
node the operator kept in the bundle). Every step is recorded in the trail.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from privproc import ohttp
from privproc.attestation import Evidence, Platform, Policy, VerifiedNode
from privproc.attestation import verify as verify_evidence
from privproc.attestation.nvgpu.verify import (
    GPU_CHECKS,
    check_rims,
    gpu_nonce,
    verify_gpu_report,
)
from privproc.client.config import ClientConfig
from privproc.errors import (
    AttestationError,
    DecodeError,
    LedgerError,
    MisuseError,
    PrivprocError,
    ProofError,
    VerificationError,
)
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.cosignature import verifier_from_vkey
from privproc.ledger.keyconsistency import (
    RecordedConfig,
    check_announced,
    current_config,
    recorded_configs,
)
from privproc.ledger.merkle import leaf_hash, root_from_leaf_hashes
from privproc.ledger.note import Ed25519Verifier
from privproc.ledger.records import Record, ReleaseRecord, RevocationRecord, decode_record
from privproc.ledger.verifier import (
    InclusionBundle,
    TrustPolicy,
    check_consistency,
    verify_checkpoint,
    verify_not_revoked,
)

__all__ = [
    "AttestedNode",
    "Step",
    "Trust",
    "TrustedKeyConfig",
    "TrustedNode",
    "VerifiedDirectory",
    "verify_attestation",
    "verify_directory",
]

#: The platform of the release records the device accepted before releases named one;
#: kept as the default of :class:`~privproc.ledger.records.ReleaseRecord`.
PLATFORM = "simulated"
#: Which evidence each release platform's CPU TEE produces.
_EVIDENCE_PLATFORM = {
    "simulated": Platform.SIMULATED,
    "sev-snp": Platform.SEV_SNP,
    "tdx": Platform.TDX,
}
_log = logging.getLogger("privproc.client")


@dataclass(frozen=True, slots=True)
class Trust:
    """The device's anchors, parsed: vendor roots, ledger policy, publisher key."""

    vendor_roots: tuple[bytes, ...]
    ledger: TrustPolicy
    publisher: Ed25519Verifier
    evidence_max_age: timedelta
    #: The fewest verified nodes the device accepts a bundle with (``bundle.too_few_nodes``):
    #: with fewer, K would silently fall and the operator could steer every request of
    #: this device to the one node it left in the bundle.
    min_nodes: int = 2
    #: The test trust store (emulated AMD ASK+ARK pairs, PEM); empty in production.
    sevsnp_test_chains: tuple[bytes, ...] = ()
    #: Fresh evidence: the witnessed checkpoint a node's evidence binds must have been
    #: cosigned at most this many seconds ago (``binding.checkpoint.age``); None: not
    #: required (evidence is then only as fresh as the node's own timestamp).
    evidence_checkpoint_max_age: int | None = None
    #: The test trust store's emulated NVIDIA device identity roots (DER); empty in production.
    nvidia_test_roots: tuple[bytes, ...] = ()
    #: The test trust store's emulated Intel SGX root CAs (DER); empty in production.
    tdx_test_roots: tuple[bytes, ...] = ()

    def __post_init__(self) -> None:
        if self.min_nodes < 1:
            raise MisuseError("min_nodes must be at least 1")
        if self.test_store:  # logged once, as the device's anchors are set; in every trail
            _log.warning("TEST trust store on: simulated or emulated vendor roots are trusted")

    @property
    def test_store(self) -> bool:
        """Whether any root beyond the vendors' pinned ones is trusted."""
        return bool(
            self.vendor_roots
            or self.sevsnp_test_chains
            or self.nvidia_test_roots
            or self.tdx_test_roots
        )

    @classmethod
    def from_config(cls, config: ClientConfig) -> Trust:
        """The anchors a device (or an auditor) with ``config`` uses."""
        return cls.from_keys(
            vendor_roots=config.roots_der() if config.trust_store == "test" else (),
            log_vkey=config.log_vkey,
            witness_vkeys=config.witness_vkeys,
            quorum=config.quorum,
            publisher_vkey=config.publisher_vkey,
            evidence_max_age=config.evidence_max_age,
            cosignature_max_age=config.cosignature_max_age,
            cosignature_max_skew=config.cosignature_max_skew,
            min_nodes=config.min_nodes,
            sevsnp_test_chains=tuple(c.encode() for c in config.test_sevsnp_chains)
            if config.trust_store == "test"
            else (),
            evidence_checkpoint_max_age=config.evidence_checkpoint_max_age,
            nvidia_test_roots=tuple(base64.b64decode(r) for r in config.test_nvidia_roots)
            if config.trust_store == "test"
            else (),
            tdx_test_roots=tuple(base64.b64decode(r) for r in config.test_tdx_roots)
            if config.trust_store == "test"
            else (),
        )

    @classmethod
    def from_keys(
        cls,
        *,
        vendor_roots: Sequence[bytes],
        log_vkey: str,
        witness_vkeys: Sequence[str],
        quorum: int,
        publisher_vkey: str,
        evidence_max_age: int,
        cosignature_max_age: int,
        cosignature_max_skew: int = 300,
        min_nodes: int = 2,
        sevsnp_test_chains: Sequence[bytes] = (),
        evidence_checkpoint_max_age: int | None = None,
        nvidia_test_roots: Sequence[bytes] = (),
        tdx_test_roots: Sequence[bytes] = (),
    ) -> Trust:
        publisher = verifier_from_vkey(publisher_vkey)
        if not isinstance(publisher, Ed25519Verifier):
            raise DecodeError("publisher key must be an Ed25519 signed-note key")
        policy = TrustPolicy(
            log=verifier_from_vkey(log_vkey),
            witnesses=tuple(verifier_from_vkey(v) for v in witness_vkeys),
            quorum=quorum,
            max_age=cosignature_max_age,
            max_skew=cosignature_max_skew,
        )
        return cls(
            tuple(vendor_roots),
            policy,
            publisher,
            timedelta(seconds=evidence_max_age),
            min_nodes,
            tuple(sevsnp_test_chains),
            evidence_checkpoint_max_age,
            tuple(nvidia_test_roots),
            tuple(tdx_test_roots),
        )


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the verification trail: the check, whether it passed, what it saw."""

    subject: str
    check: str
    ok: bool
    detail: str


@dataclass(frozen=True, slots=True)
class TrustedNode:
    """A node the device may seal to: its attested key, measurement and ledger facts."""

    node: str
    node_key: bytes
    measurement: bytes
    release_index: int
    release_version: str
    verified: VerifiedNode
    #: The release's ``model_digest`` (SHA-256 of the GGUF a generative node serves).
    model_digest: bytes = bytes(32)


@dataclass(frozen=True, slots=True)
class TrustedKeyConfig:
    """The gateway key config the device encapsulates to, and its ledger index."""

    config: ohttp.KeyConfig
    ledger_index: int
    #: When the config's window ends (seconds since the epoch): the directory expires then.
    not_after: int


@dataclass(frozen=True, slots=True)
class VerifiedDirectory:
    """The outcome: usable nodes and key config, the checkpoint, and the trail."""

    nodes: tuple[TrustedNode, ...]
    key_config: TrustedKeyConfig
    checkpoint: Checkpoint
    newest: Checkpoint
    verified_at: datetime
    expires: datetime
    trail: tuple[Step, ...] = field(default=())
    #: The names of the witnesses whose cosignatures on ``checkpoint`` verified.
    cosigners: tuple[str, ...] = ()


def _bundle_of(obj: object, what: str) -> InclusionBundle:
    try:
        return InclusionBundle.decode(json.dumps(obj).encode())
    except DecodeError as exc:
        raise VerificationError("bundle.decode", f"{what}: {exc}") from None


def _parse(bundle_doc: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(bundle_doc)
    except (ValueError, RecursionError):
        raise VerificationError("bundle.decode", "node bundle is not JSON") from None
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise VerificationError("bundle.version", "unsupported node bundle", expected=1)
    if not isinstance(doc.get("nodes"), list) or not isinstance(doc.get("key_configs"), list):
        raise VerificationError("bundle.decode", "node bundle lacks nodes or key configs")
    if not isinstance(doc.get("checkpoint"), str):
        raise VerificationError("bundle.decode", "node bundle lacks its checkpoint")
    return doc


def verify_directory(
    keys_doc: bytes,
    bundle_doc: bytes,
    trust: Trust,
    *,
    now: datetime,
    seen: Checkpoint | None,
    consistency: Sequence[bytes] = (),
) -> VerifiedDirectory:
    """Verify the fetched documents; see the module docstring for the checks."""
    trail: list[Step] = []
    epoch = int(now.timestamp())
    if trust.test_store:
        trail.append(
            Step(
                "device",
                "trust.test_store",
                True,
                f"TEST trust store on: {len(trust.vendor_roots)} simulated root(s),"
                f" {len(trust.sevsnp_test_chains)} emulated AMD root(s),"
                f" {len(trust.nvidia_test_roots)} emulated NVIDIA root(s),"
                f" {len(trust.tdx_test_roots)} emulated Intel root(s) trusted besides the"
                " pinned vendor roots (never in production)",
            )
        )
    doc = _parse(bundle_doc)

    # 1. The checkpoint: log signature, witness quorum and freshness, consistency.
    note = doc["checkpoint"].encode()
    opened = verify_checkpoint(note, trust.ledger, epoch)
    cp = opened.checkpoint
    names = sorted(v.verifier.name for v in opened.cosignatures)
    trail.append(
        Step("ledger", "checkpoint", True, f"size {cp.size}, cosigned by {', '.join(names)}")
    )
    newest = check_consistency(seen, cp, consistency)
    trail.append(
        Step(
            "ledger",
            "consistency",
            True,
            "first checkpoint seen" if seen is None else f"consistent with size {seen.size}",
        )
    )

    entries = _log_entries(doc, cp)
    trail.append(Step("ledger", "entries", True, f"{len(entries)} entries hash to the root"))
    log = _Log(cp, tuple(entries))

    # 2. The gateway key config: served == recorded in the ledger, within its window.
    key_config = _verify_key_config(keys_doc, doc, trust, epoch, trail, log=log)

    # 3. The nodes: release record in the ledger, then attestation against it.
    nodes: list[TrustedNode] = []
    failures: list[VerificationError] = []
    for entry in doc["nodes"]:
        name = str(entry.get("node", "?")) if isinstance(entry, dict) else "?"
        try:
            nodes.append(
                _verify_node(entry, trust, now=now, epoch=epoch, note=note, trail=trail, log=log)
            )
        except VerificationError as exc:
            trail.append(Step(name, exc.check, False, str(exc)))
            failures.append(exc)
    if not nodes:
        if failures:
            raise failures[0]
        raise VerificationError("bundle.nodes", "the directory lists no node")
    if len(nodes) < trust.min_nodes:
        left_out = (
            f"; left out: {', '.join(sorted({f.check for f in failures}))}" if failures else ""
        )
        raise VerificationError(
            "bundle.too_few_nodes",
            f"too few verified nodes to choose K among{left_out}",
            expected=f"at least {trust.min_nodes}",
            found=len(nodes),
        )
    trail.append(
        Step("bundle", "too_few_nodes", True, f"{len(nodes)} verified (minimum {trust.min_nodes})")
    )
    expires = min(n.verified.timestamp for n in nodes) + trust.evidence_max_age
    expires = min(expires, datetime.fromtimestamp(key_config.not_after, tz=now.tzinfo))
    return VerifiedDirectory(
        tuple(nodes),
        key_config,
        cp,
        newest,
        now,
        min(expires, now + timedelta(minutes=10)),
        tuple(trail),
        tuple(names),
    )


class _Log:
    """Every entry up to the verified checkpoint (already hashed to its root).

    Remembers the targets found not revoked, so nodes of one release cost one pass.
    """

    __slots__ = ("_clear", "_records", "checkpoint", "entries")

    def __init__(self, checkpoint: Checkpoint, entries: tuple[bytes, ...]) -> None:
        self.checkpoint = checkpoint
        self.entries = entries
        self._clear: set[tuple[str, bytes]] = set()
        self._records: dict[int, Record] = {}

    def record(self, trust: Trust, bundle: InclusionBundle) -> tuple[Record, int]:
        """The publisher-signed record a node's proof names, and its index.

        The bundle is against the checkpoint already verified (``_same_checkpoint``) and
        the device holds every entry of it, hashed to its root, so inclusion is the
        entry at that index being the proof's entry (``merkle.inclusion.root`` if not);
        the record's signature is checked once per index (nodes of one release share it).
        """
        index = bundle.index
        if not 0 <= index < len(self.entries) or self.entries[index] != bundle.entry:
            raise ProofError(
                "merkle.inclusion.root",
                "the proof's entry is not the log's entry at its index",
                expected=f"entry {index} of {len(self.entries)}",
            )
        if index not in self._records:
            try:
                signed = decode_record(bundle.entry)
            except DecodeError as exc:
                raise LedgerError("record.decode", f"entry is not a record: {exc}") from None
            self._records[index] = signed.verify(trust.publisher)
        return self._records[index], index

    def not_revoked(self, trust: Trust, *, kind: str, target: bytes, check: str) -> None:
        """Raise LedgerError ``check`` when a publisher-signed revocation names ``target``."""
        if (kind, target) in self._clear:
            return
        try:
            verify_not_revoked(
                self.entries, self.checkpoint, trust.publisher, kind=kind, target=target
            )
        except LedgerError as exc:
            if exc.check != "ledger.revoked":
                raise
            raise LedgerError(
                check,
                f"revoked in the ledger: {exc}",
                expected="no revocation record",
                found=target.hex()[:16] + "...",
            ) from None
        self._clear.add((kind, target))


def _log_entries(doc: dict[str, Any], cp: Checkpoint) -> list[bytes]:
    raw = doc.get("entries")
    if not isinstance(raw, list) or not all(isinstance(e, str) for e in raw):
        raise LedgerError(
            "ledger.entries",
            "the bundle does not carry the log's entries: revocation cannot be checked",
        )
    try:
        entries = [base64.b64decode(e, validate=True) for e in raw]
    except ValueError:
        raise VerificationError("bundle.decode", "a log entry is not base64") from None
    if len(entries) != cp.size:
        raise LedgerError(
            "ledger.entries.count",
            "the entries do not cover the checkpoint",
            expected=cp.size,
            found=len(entries),
        )
    if root_from_leaf_hashes([leaf_hash(e) for e in entries]) != cp.root_hash:
        raise LedgerError("ledger.entries.root", "the entries do not hash to the checkpoint's root")
    return entries


def _same_checkpoint(bundle: InclusionBundle, note: bytes) -> None:
    if bundle.checkpoint != note:
        raise VerificationError(
            "bundle.checkpoint", "a proof is against another checkpoint than the bundle's"
        )


def _verify_key_config(
    keys_doc: bytes,
    doc: dict[str, Any],
    trust: Trust,
    epoch: int,
    trail: list[Step],
    *,
    log: _Log,
) -> TrustedKeyConfig:
    """The key-consistency rule (:mod:`privproc.ledger.keyconsistency`), on the device.

    The device already holds every entry up to the verified checkpoint, so it derives
    the config current for everyone at ``epoch`` itself and refuses a gateway that
    serves another one, whatever else is recorded (``keyconfig.consistency``).
    """
    try:
        served = ohttp.decode_list(keys_doc)
    except PrivprocError:
        raise VerificationError("keyconfig.decode", "the key configs do not parse") from None
    try:
        chosen, current, stamp, count = _current_served(served, doc, trust, epoch, log)
    except LedgerError as exc:
        trail.append(Step("gateway", exc.check, False, str(exc)))
        raise
    ahead = (
        "first of its run" if stamp is None else f"witnessed {current.not_before - stamp}s ahead"
    )
    trail.append(
        Step(
            "gateway",
            "keyconfig.consistency",
            True,
            f"key_id {chosen.key_id} at index {current.index}, current for everyone"
            f" ({count} recorded; {ahead})",
        )
    )
    return TrustedKeyConfig(chosen, current.index, current.not_after)


def _current_served(
    served: Sequence[ohttp.KeyConfig], doc: dict[str, Any], trust: Trust, epoch: int, log: _Log
) -> tuple[ohttp.KeyConfig, RecordedConfig, int | None, int]:
    """The current config (rules 1-4), which the gateway must serve; raises LedgerError."""
    configs = recorded_configs(log.entries, trust.publisher)
    current = current_config(configs, epoch)
    raw = current.record.key_config
    chosen = next((c for c in served if c.encode() == raw), None)
    if chosen is None:
        raise LedgerError(
            "keyconfig.consistency",
            "the gateway does not serve the key config the ledger makes current for"
            " everyone now (a config served to this device only would identify it)",
            expected=f"the config of entry {current.index}",
            found=[f"key_id {c.key_id}" for c in served],
        )
    stamp = check_announced(configs, current, _announcement(doc, raw), trust.ledger, log.entries)
    return chosen, current, stamp, len(configs)


def _announcement(doc: dict[str, Any], raw: bytes) -> bytes | None:
    """The bundle's announcement checkpoint for the config ``raw``, if it carries one."""
    for item in doc["key_configs"]:
        if not isinstance(item, dict) or not isinstance(item.get("config"), str):
            continue
        try:
            config = base64.b64decode(item["config"], validate=True)
        except ValueError:
            raise VerificationError("bundle.decode", "a key config is not base64") from None
        if config == raw:
            note = item.get("announced")
            return note.encode() if isinstance(note, str) else None
    return None


def _policy_for(record: ReleaseRecord, released: bytes, evidence: Evidence, trust: Trust) -> Policy:
    """The attestation policy for a node of ``record``: from the release, never the node.

    ``release.platform`` when the evidence is from another platform than the release's.
    """
    expected = _EVIDENCE_PLATFORM[record.cpu_platform]
    if evidence.platform is not expected:
        raise AttestationError(
            "release.platform",
            "the node's evidence is not from the platform its release names",
            expected=record.platform,
            found=evidence.platform.name,
        )
    return Policy(
        measurements=frozenset({released}),
        min_tcb=record.min_tcb,
        max_age=trust.evidence_max_age,
        simulated_roots=trust.vendor_roots,
        sevsnp_test_chains=trust.sevsnp_test_chains,
        tdx_test_roots=trust.tdx_test_roots,
    )


@dataclass(frozen=True, slots=True)
class AttestedNode:
    """A node's interactive attestation, verified against a release in the ledger."""

    node: str
    release_index: int
    release: ReleaseRecord
    verified: VerifiedNode
    #: The GPU checks that passed (``+nvidia-cc`` releases), else empty.
    gpu_checks: tuple[str, ...] = ()
    #: The model the node serves, equal to the release's ``model_digest``.
    model_digest: bytes = bytes(32)


def verify_attestation(
    doc: bytes, *, nonce: bytes, entries: Sequence[bytes], trust: Trust, now: datetime
) -> AttestedNode:
    """Verify a node's ``GET /attestation?nonce=`` answer (an auditor's check).

    ``entries``: every log entry up to a checkpoint the caller verified (``privproc
    audit`` re-derives them from the tiles). The newest publisher-signed release whose
    platform measurement is the one the node advertises gives the policy
    (``release.missing`` if none; ``release.revoked`` if a publisher-signed revocation
    names it), the evidence must be that platform's, chain to a trusted root, meet the
    release's policy, bind the node's advertised key, and carry ``nonce``
    (``binding.freshness``): it was made after the caller chose the nonce. For a
    ``+nvidia-cc`` release the answer's GPU report is checked as on the device
    (``_check_gpu``: ``nvgpu.*``, its nonce bound to this CPU evidence, the release's RIM
    digests); the model digest the node names must be the release's (``release.model``).
    """
    try:
        obj = json.loads(doc)
        name = str(obj["node"])
        measurement = bytes.fromhex(str(obj["measurement"]))
        evidence = Evidence.decode(base64.b64decode(str(obj["evidence"]), validate=True))
        advertised = base64.b64decode(str(obj["public_key"]), validate=True)
    except (KeyError, TypeError, ValueError, DecodeError, RecursionError):
        raise VerificationError("attestation.decode", "the attestation does not parse") from None
    found: tuple[int, ReleaseRecord] | None = None
    revoked: set[bytes] = set()
    for index, entry in enumerate(entries):
        try:
            record = decode_record(entry).verify(trust.publisher)
        except (DecodeError, LedgerError):
            continue
        if isinstance(record, ReleaseRecord):
            if record.measurement_for(record.cpu_platform) == measurement:
                found = (index, record)
        elif isinstance(record, RevocationRecord) and record.kind == "measurement":
            revoked.add(record.target)
    if found is None:
        raise LedgerError(
            "release.missing",
            "the node's measurement has no release record in the ledger",
            found=measurement.hex()[:16] + "...",
        )
    index, record = found
    if measurement in revoked:
        raise LedgerError("release.revoked", "the node's release is revoked in the ledger")
    policy = _policy_for(record, measurement, evidence, trust)
    verified = verify_evidence(evidence, policy=policy, now=now, nonce=nonce)
    if verified.node_key != advertised:
        raise VerificationError(
            "bundle.node_key", "the advertised key is not the key bound in the evidence"
        )
    gpu_checks: tuple[str, ...] = ()
    if record.gpu:
        _check_gpu(obj.get("gpu"), verified, record, trust, now)
        gpu_checks = GPU_CHECKS
    _model_is_the_releases(obj.get("model_digest"), record)
    return AttestedNode(name, index, record, verified, gpu_checks, record.model_digest)


def _check_gpu(
    doc: object, cpu: VerifiedNode, record: ReleaseRecord, trust: Trust, now: datetime
) -> str:
    """A ``+nvidia-cc`` release: the node's GPU report (``nvgpu.*``, module docstring of
    :mod:`privproc.attestation.nvgpu.verify`) chains to NVIDIA's pinned root (or a test
    root), answers the nonce that binds it to the CPU report (``nvgpu.report.nonce``),
    and each measurement equals the RIM digest the release recorded
    (``nvgpu.measurement``: CC mode on, devtools off)."""
    if not isinstance(doc, dict):
        raise AttestationError("nvgpu.report.format", "the release needs GPU evidence; none")
    try:
        report = base64.b64decode(str(doc["report"]), validate=True)
        chain = str(doc["chain"]).encode("ascii")
    except (KeyError, ValueError, UnicodeEncodeError):
        raise AttestationError("nvgpu.report.format", "the GPU evidence does not parse") from None
    gpu = verify_gpu_report(
        report,
        chain,
        nonce=gpu_nonce(cpu.report_data),
        now=now,
        test_roots=trust.nvidia_test_roots,
    )
    check_rims(gpu, record.gpu_rims)
    return f"; GPU {', '.join(GPU_CHECKS)} ({len(record.gpu_rims)} RIM digests)"


def _check_witnessed(note: object, verified: VerifiedNode, trust: Trust, epoch: int) -> str:
    """``binding.checkpoint`` and ``binding.checkpoint.age`` (module docstring)."""
    if not isinstance(note, str):
        raise AttestationError(
            "binding.checkpoint", "the evidence binds no witnessed checkpoint", expected="a note"
        )
    digest = hashlib.sha256(note.encode()).digest()
    if not hmac.compare_digest(verified.freshness[8:], digest):
        raise AttestationError(
            "binding.checkpoint",
            "the report data does not bind the checkpoint the bundle carries",
            expected=digest.hex(),
            found=verified.freshness[8:].hex(),
        )
    assert trust.evidence_checkpoint_max_age is not None
    policy = dataclasses.replace(trust.ledger, max_age=trust.evidence_checkpoint_max_age)
    try:
        opened = verify_checkpoint(note.encode(), policy, epoch)
    except LedgerError as exc:
        check = "binding.checkpoint.age" if exc.check == "ledger.cosignatures.fresh" else None
        raise AttestationError(
            check or "binding.checkpoint", f"the bound checkpoint is refused: {exc}"
        ) from None
    newest = max(ts for v in opened.cosignatures if (ts := v.timestamp) is not None)
    return f", bound to checkpoint size {opened.checkpoint.size} cosigned {epoch - newest}s ago"


def _verify_node(
    entry: object,
    trust: Trust,
    *,
    now: datetime,
    epoch: int,
    note: bytes,
    trail: list[Step],
    log: _Log,
) -> TrustedNode:
    if not isinstance(entry, dict):
        raise VerificationError("bundle.decode", "a node entry is not an object")
    name = str(entry.get("node"))
    try:
        measurement = bytes.fromhex(str(entry["measurement"]))
        evidence = Evidence.decode(base64.b64decode(str(entry["evidence"]), validate=True))
        advertised = base64.b64decode(str(entry["public_key"]), validate=True)
    except (KeyError, ValueError, DecodeError):
        raise VerificationError("bundle.decode", "a node entry does not parse") from None
    if entry.get("release") is None:
        raise LedgerError(
            "release.missing",
            "the node's measurement has no release record in the ledger",
            expected="a release record for this measurement",
            found=measurement.hex()[:16] + "...",
        )
    bundle = _bundle_of(entry["release"], "release proof")
    _same_checkpoint(bundle, note)
    record, index = log.record(trust, bundle)
    if not isinstance(record, ReleaseRecord):
        raise LedgerError("release.record", "the ledger entry is not a release record")
    released = record.measurement_for(record.cpu_platform)
    if released is None:  # pragma: no cover - a ReleaseRecord always has it
        raise LedgerError("release.platform", f"the release has no {record.cpu_platform} value")
    log.not_revoked(trust, kind="measurement", target=released, check="release.revoked")
    trail.append(
        Step(
            name,
            "release.ledger",
            True,
            f"{record.component} {record.version} at index {index}",
        )
    )
    policy = _policy_for(record, released, evidence, trust)
    verified = verify_evidence(evidence, policy=policy, now=now)
    witnessed = ""
    if trust.evidence_checkpoint_max_age is not None:
        witnessed = _check_witnessed(entry.get("witnessed"), verified, trust, epoch)
    if record.gpu:
        witnessed += _check_gpu(entry.get("gpu"), verified, record, trust, now)
    if verified.node_key != advertised:
        raise VerificationError(
            "bundle.node_key", "the advertised key is not the key bound in the evidence"
        )
    trail.append(
        Step(
            name,
            "attestation",
            True,
            f"measurement {verified.measurement.hex()[:16]}..., debug off, "
            f"evidence {int((now - verified.timestamp).total_seconds())}s old, key bound; "
            f"platform {record.platform}"
            + ("" if record.min_tcb is None else f", TCB >= {record.min_tcb}")
            + (
                f", Intel TCB status {'/'.join(sorted(policy.tdx_tcb_status))}"
                if record.cpu_platform == "tdx"
                else ""
            )
            + witnessed
            + f"; checks: {', '.join(verified.checks)}",
        )
    )
    _check_model(entry, record, name, trail)
    return TrustedNode(
        name,
        verified.node_key,
        verified.measurement,
        index,
        record.version,
        verified,
        record.model_digest,
    )


def _check_model(
    entry: dict[str, Any], record: ReleaseRecord, name: str, trail: list[Step]
) -> None:
    """``release.model``: the model the node says it serves is the release's.

    The measurement (checked above) binds the model files themselves; this names the
    model for the user and refuses a node that claims another one."""
    claimed = _model_is_the_releases(entry.get("model_digest"), record)
    trail.append(Step(name, "release.model", True, f"model sha256 {claimed[:16]}..."))


def _model_is_the_releases(claimed: object, record: ReleaseRecord) -> str:
    """``release.model``: the node's ``model_digest`` (hex) is the release's; returns it."""
    if not isinstance(claimed, str) or claimed != record.model_digest.hex():
        raise LedgerError(
            "release.model",
            "the node serves a model other than the release's",
            expected=record.model_digest.hex()[:16] + "...",
            found=(str(claimed)[:16] + "...") if isinstance(claimed, str) else "no model digest",
        )
    return claimed
