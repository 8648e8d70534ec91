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
* ``attestation.*`` / ``binding.*`` / ``policy.*`` (privproc.attestation): evidence
  chains to a trusted vendor root, debug is off, the measurement is the released
  one, the evidence is fresh, and the node key is the one bound in the report.

A node that fails is left out (its failure is in the trail); when no node passes,
the first node failure is raised; when fewer than ``Trust.min_nodes`` (default 2)
pass, ``bundle.too_few_nodes`` is raised (the device never lets K fall to one
node the operator kept in the bundle). Every step is recorded in the trail.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from privproc import ohttp
from privproc.attestation import Evidence, Policy, VerifiedNode
from privproc.attestation import verify as verify_evidence
from privproc.errors import (
    DecodeError,
    LedgerError,
    MisuseError,
    PrivprocError,
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
from privproc.ledger.records import ReleaseRecord
from privproc.ledger.verifier import (
    InclusionBundle,
    TrustPolicy,
    check_consistency,
    verify_checkpoint,
    verify_not_revoked,
    verify_record,
)

__all__ = [
    "Step",
    "Trust",
    "TrustedKeyConfig",
    "TrustedNode",
    "VerifiedDirectory",
    "verify_directory",
]

PLATFORM = "simulated"


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

    def __post_init__(self) -> None:
        if self.min_nodes < 1:
            raise MisuseError("min_nodes must be at least 1")

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
    #: The release record's model digest (SHA-256 of the model files), for the user's view.
    model_digest: bytes | None = None


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

    __slots__ = ("_clear", "checkpoint", "entries")

    def __init__(self, checkpoint: Checkpoint, entries: tuple[bytes, ...]) -> None:
        self.checkpoint = checkpoint
        self.entries = entries
        self._clear: set[tuple[str, bytes]] = set()

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
    record, result = verify_record(bundle, trust.ledger, trust.publisher, now=epoch, seen=None)
    if not isinstance(record, ReleaseRecord):
        raise LedgerError("release.record", "the ledger entry is not a release record")
    released = record.measurement_for(PLATFORM)
    if released is None:
        raise LedgerError("release.platform", "the release has no simulated measurement")
    log.not_revoked(trust, kind="measurement", target=released, check="release.revoked")
    trail.append(
        Step(
            name,
            "release.ledger",
            True,
            f"{record.component} {record.version} at index {result.index}",
        )
    )
    policy = Policy(
        measurements=frozenset({released}),
        max_age=trust.evidence_max_age,
        simulated_roots=trust.vendor_roots,
    )
    verified = verify_evidence(evidence, policy=policy, now=now)
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
            f"evidence {int((now - verified.timestamp).total_seconds())}s old, key bound",
        )
    )
    return TrustedNode(
        name,
        verified.node_key,
        verified.measurement,
        result.index,
        record.version,
        verified,
        record.model_digest,
    )
