"""The device-side ledger check, pure (no I/O): is this entry in the witnessed log?

A device accepts an entry (a release or key-config record) only when:

1. the checkpoint carries a valid signature by the log's key (``checkpoint.log_signature``);
2. at least ``quorum`` of the configured witnesses cosigned it
   (``ledger.cosignatures.quorum``), each cosignature no older than ``max_age``
   seconds and not from the future (``ledger.cosignatures.fresh``, a StaleError) —
   C2SP tlog-cosignature timestamps;
3. it is consistent with the newest checkpoint this device has seen: a larger
   tree needs a verifying RFC 9162 §2.1.4.2 consistency proof
   (``ledger.consistency``, a ForkError), an equal size the same root
   (``ledger.fork``), and a smaller size is refused (``ledger.rollback``);
4. the entry's inclusion proof (RFC 9162 §2.1.3.2) leads to the checkpoint's root
   (``merkle.inclusion.*``, a ProofError);
5. for records, the publisher's signature verifies (``record.*``).

The caller keeps the newest checkpoint (see :mod:`privproc.ledger.seen`) and
stores :attr:`VerifiedInclusion.newest` after a success.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass

from privproc.canonical import canonical_json
from privproc.errors import (
    DecodeError,
    ForkError,
    LedgerError,
    MisuseError,
    ProofError,
    StaleError,
)
from privproc.ledger.checkpoint import Checkpoint, OpenedCheckpoint, open_checkpoint
from privproc.ledger.merkle import (
    HASH_SIZE,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
    verify_inclusion,
)
from privproc.ledger.note import Ed25519Verifier, NoteVerifier, b64decode_strict
from privproc.ledger.records import Record, RevocationRecord, decode_record

__all__ = [
    "InclusionBundle",
    "TrustPolicy",
    "VerifiedInclusion",
    "check_consistency",
    "verify_checkpoint",
    "verify_inclusion_bundle",
    "verify_not_revoked",
    "verify_record",
]


@dataclass(frozen=True, slots=True)
class TrustPolicy:
    """What a device trusts: the log key, the witnesses, the quorum, the freshness.

    ``max_age`` bounds how old (seconds) a cosignature may be; ``max_skew`` how far
    in the future a cosignature timestamp may lie (clock skew).
    """

    log: NoteVerifier
    witnesses: tuple[NoteVerifier, ...]
    quorum: int
    max_age: int
    max_skew: int = 300
    origin: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.quorum <= len(self.witnesses):
            raise MisuseError("quorum must be between 1 and the number of witnesses")
        if self.max_age <= 0 or self.max_skew < 0:
            raise MisuseError("max_age must be positive and max_skew non-negative")
        names = {(w.name, w.key_id) for w in self.witnesses}
        if len(names) != len(self.witnesses):
            raise MisuseError("witnesses must be distinct keys")


@dataclass(frozen=True, slots=True)
class InclusionBundle:
    """What a device is given to check one entry: the signed checkpoint, the entry,
    its index and its inclusion proof. JSON for transport (``encode``/``decode``)."""

    checkpoint: bytes
    index: int
    entry: bytes
    proof: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if self.index < 0:
            raise MisuseError("index must be non-negative")
        if any(len(p) != HASH_SIZE for p in self.proof) or len(self.proof) > 64:
            raise MisuseError("proof must be at most 64 SHA-256 hashes")

    def encode(self) -> bytes:
        """``{"checkpoint","entry","index","proof"}`` with base64 byte strings."""
        b64 = base64.b64encode
        return canonical_json(
            {
                "checkpoint": self.checkpoint.decode("utf-8"),
                "entry": b64(self.entry).decode(),
                "index": self.index,
                "proof": [b64(p).decode() for p in self.proof],
            }
        )

    @classmethod
    def decode(cls, data: bytes) -> InclusionBundle:
        """Parse a bundle; raise DecodeError."""
        try:
            obj = json.loads(data)
        except (ValueError, RecursionError):
            raise DecodeError("inclusion bundle is not JSON") from None
        if not isinstance(obj, dict) or set(obj) != {"checkpoint", "entry", "index", "proof"}:
            raise DecodeError("inclusion bundle: wrong fields")
        cp, entry, index, proof = obj["checkpoint"], obj["entry"], obj["index"], obj["proof"]
        if not isinstance(cp, str) or not isinstance(entry, str) or not isinstance(proof, list):
            raise DecodeError("inclusion bundle: wrong field types")
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise DecodeError("inclusion bundle: bad index")
        hashes = tuple(b64decode_strict(p, "proof") if isinstance(p, str) else b"" for p in proof)
        try:
            return cls(cp.encode(), index, b64decode_strict(entry, "entry"), hashes)
        except UnicodeEncodeError:
            raise DecodeError("inclusion bundle: checkpoint is not UTF-8") from None
        except MisuseError as exc:
            raise DecodeError(f"inclusion bundle: {exc}") from None


@dataclass(frozen=True, slots=True)
class VerifiedInclusion:
    """The result of a successful check.

    ``checkpoint`` is the verified checkpoint; ``newest`` the checkpoint the device
    must now store as the newest it has seen.
    """

    opened: OpenedCheckpoint
    index: int
    entry: bytes
    newest: Checkpoint

    @property
    def checkpoint(self) -> Checkpoint:
        """The checkpoint the entry is included in."""
        return self.opened.checkpoint


def verify_checkpoint(data: bytes, policy: TrustPolicy, now: int) -> OpenedCheckpoint:
    """Check the log's signature and a quorum of fresh witness cosignatures."""
    opened = open_checkpoint(data, policy.log, policy.witnesses, origin=policy.origin)
    cosigned = {v.verifier.name: v.timestamp for v in opened.cosignatures}
    if len(cosigned) < policy.quorum:
        missing = sorted({w.name for w in policy.witnesses} - set(cosigned))
        raise LedgerError(
            "ledger.cosignatures.quorum",
            f"too few witness cosignatures (missing: {', '.join(missing)})",
            expected=policy.quorum,
            found=len(cosigned),
        )
    fresh = [
        name
        for name, ts in cosigned.items()
        if ts is not None and now - policy.max_age <= ts <= now + policy.max_skew
    ]
    if len(fresh) < policy.quorum:
        ages = {name: now - ts for name, ts in cosigned.items() if ts is not None}
        raise StaleError(
            "ledger.cosignatures.fresh",
            f"too few cosignatures within {policy.max_age}s (ages in seconds: {ages})",
            expected=policy.quorum,
            found=len(fresh),
        )
    return opened


def check_consistency(
    seen: Checkpoint | None, new: Checkpoint, proof: Sequence[bytes]
) -> Checkpoint:
    """Check ``new`` against the newest checkpoint seen; return the new newest.

    Raises ForkError ``ledger.origin``, ``ledger.rollback``, ``ledger.fork`` or
    ``ledger.consistency``.
    """
    if seen is None:
        return new
    if seen.origin != new.origin:
        raise ForkError(
            "ledger.origin", "checkpoint from another log", expected=seen.origin, found=new.origin
        )
    if new.size < seen.size:
        raise ForkError(
            "ledger.rollback",
            "checkpoint older than one this device has seen",
            expected=f">= {seen.size}",
            found=new.size,
        )
    if new.size == seen.size:
        if new.root_hash != seen.root_hash:
            raise ForkError(
                "ledger.fork",
                f"two roots for size {new.size}",
                expected=seen.root_hash.hex(),
                found=new.root_hash.hex(),
            )
        return seen
    try:
        verify_consistency(seen.size, new.size, proof, seen.root_hash, new.root_hash)
    except LedgerError as exc:
        raise ForkError(
            "ledger.consistency", f"not consistent with the seen checkpoint ({exc.check})"
        ) from None
    return new


def verify_inclusion_bundle(
    bundle: InclusionBundle,
    policy: TrustPolicy,
    *,
    now: int,
    seen: Checkpoint | None,
    consistency: Sequence[bytes] = (),
) -> VerifiedInclusion:
    """Verify a bundle fully (checkpoint, quorum, freshness, consistency, inclusion).

    ``consistency`` is the proof from ``seen.size`` to the bundle's checkpoint size
    (empty when nothing was seen or the sizes match).
    """
    opened = verify_checkpoint(bundle.checkpoint, policy, now)
    newest = check_consistency(seen, opened.checkpoint, consistency)
    cp = opened.checkpoint
    verify_inclusion(leaf_hash(bundle.entry), bundle.index, cp.size, bundle.proof, cp.root_hash)
    return VerifiedInclusion(opened, bundle.index, bundle.entry, newest)


def verify_record(
    bundle: InclusionBundle,
    policy: TrustPolicy,
    publisher: Ed25519Verifier,
    *,
    now: int,
    seen: Checkpoint | None,
    consistency: Sequence[bytes] = (),
) -> tuple[Record, VerifiedInclusion]:
    """Verify a bundle whose entry is a signed record; return the record and the result."""
    result = verify_inclusion_bundle(bundle, policy, now=now, seen=seen, consistency=consistency)
    try:
        signed = decode_record(bundle.entry)
    except DecodeError as exc:
        raise LedgerError("record.decode", f"entry is not a record: {exc}") from None
    return signed.verify(publisher), result


def verify_not_revoked(
    entries: Sequence[bytes],
    checkpoint: Checkpoint,
    publisher: Ed25519Verifier,
    *,
    kind: str,
    target: bytes,
) -> Checkpoint:
    """Prove that no revocation of ``target`` is in the log up to ``checkpoint``; return
    the checkpoint the proof holds for.

    ``entries`` must be every entry of the (already verified) checkpoint, e.g. fetched
    from the entry bundles; they must hash to its root (``ledger.entries.root``), which
    makes the absence of a revocation a proof, not a hope. A revocation record validly
    signed by ``publisher`` whose kind and target match raises LedgerError
    ``ledger.revoked``. Costs one leaf hash per entry: meant for a ledger of releases and
    key configs (thousands of entries), not for an unbounded log.
    """
    if len(entries) != checkpoint.size:
        raise ProofError(
            "ledger.entries.count",
            "the entries do not cover the checkpoint",
            expected=checkpoint.size,
            found=len(entries),
        )
    root = root_from_leaf_hashes([leaf_hash(e) for e in entries])
    if root != checkpoint.root_hash:
        raise ProofError(
            "ledger.entries.root",
            "the entries do not hash to the checkpoint's root",
            expected=checkpoint.root_hash.hex(),
            found=root.hex(),
        )
    for index, entry in enumerate(entries):
        try:
            signed = decode_record(entry)
        except DecodeError:
            continue
        rec = signed.record
        if not isinstance(rec, RevocationRecord) or (rec.kind, rec.target) != (kind, target):
            continue
        try:
            signed.verify(publisher)
        except LedgerError:
            continue  # a revocation not signed by the publisher revokes nothing
        raise LedgerError(
            "ledger.revoked",
            f"{kind} revoked at entry {index}: {rec.reason}",
            found=target.hex(),
        )
    return checkpoint
