"""The key-consistency rule: one sequence of gateway key configs that everyone can check.

Why a rule. The operator holds the publisher key and the ledger's append token, so
"recorded in the ledger" alone lets it record an extra config, valid now, and serve it
to one device: that device then encapsulates to a key nobody else uses and the gateway
knows who sent each request (the key-consistency attack on Oblivious HTTP,
RFC 9458 §7 and draft-ietf-privacypass-key-consistency). The rule below makes the
config a device uses a function of the time and of the (append-only, witnessed) log,
so a device uses the config every other device uses at that time.

The rule, over the publisher-signed ``key_config`` records (RFC 9458 §3 key configs)
in log order ``R_0, R_1, ...``, each valid on ``[not_before, not_after)``; a record
identical to an earlier one (same bytes and window: a retried append) is the same
record. Revoked records (a publisher-signed revocation of kind ``key_config``) are
left out of rules 1-3 (so a mistaken record can be repaired by revoking it), not of 4:

1. ``keyconfig.sequence``: one config, one window, and ``not_before`` strictly
   increases along the log (a later record never starts before an earlier one);
2. ``keyconfig.overlap``: at most two configs are valid at any instant
   (``not_after[i] <= not_before[i+2]``);
3. current: at time ``t`` the *current* config is the record that started last
   (greatest ``not_before <= t``); it must still be valid (``keyconfig.window``) and
   not revoked (``keyconfig.revoked``: a device does not fall back to an older
   config; none recorded at all is ``keyconfig.ledger``). A device uses only the current config and
   refuses a gateway that does not serve it (``keyconfig.consistency``);
4. ``keyconfig.announce``: a record that overlaps any earlier record (it starts before
   an earlier one ends) must have been in the witnessed log at least ``D`` seconds
   before its ``not_before``, where ``D`` is the deployment's cosignature max age plus
   its clock skew. Proof: the first checkpoint containing the record that a quorum of
   witnesses cosigned (the ledger keeps it: ``GET /checkpoint/witnessed``); its
   newest trusted cosignature timestamp ``T`` must satisfy ``T + D <= not_before``. A
   record that starts after every earlier record has ended (the first one, or a
   restart after a gap) needs no announcement: a device that has not seen it has no
   valid config at all, so it gets no service rather than another config.

Why 4 closes the attack: a device at time ``t >= not_before`` accepts only
checkpoints cosigned after ``t - max_age >= T``, and a witness never cosigns a
smaller tree after a larger one (C2SP tlog-witness), so every checkpoint any device
accepts at ``t`` contains the record, and rule 3 gives every device the same current
config. What is left: during an overlap a device that fetched before ``not_before``
keeps the previous config until its directory expires (a split by fetch time that
every rotation has, not a choice of the operator), and devices configured with a
longer max age than the deployment's ``D`` are not covered.

Pure: no I/O, time comes in as an argument.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from privproc.errors import DecodeError, LedgerError
from privproc.ledger.checkpoint import Checkpoint, open_checkpoint
from privproc.ledger.merkle import leaf_hash, root_from_leaf_hashes
from privproc.ledger.note import Ed25519Verifier
from privproc.ledger.records import KeyConfigRecord, RevocationRecord, decode_record
from privproc.ledger.verifier import TrustPolicy

__all__ = [
    "RecordedConfig",
    "announce_delay",
    "announcement_violations",
    "check_announced",
    "current_config",
    "needs_announcement",
    "recorded_configs",
    "rule_violations",
    "witnessed_at",
]


@dataclass(frozen=True, slots=True)
class RecordedConfig:
    """A key-config record at log index ``index``; ``revoked`` at the view it came from."""

    index: int
    record: KeyConfigRecord
    revoked: bool

    @property
    def not_before(self) -> int:
        return self.record.not_before

    @property
    def not_after(self) -> int:
        return self.record.not_after


def recorded_configs(entries: Sequence[bytes], publisher: Ed25519Verifier) -> list[RecordedConfig]:
    """Every publisher-signed key-config record of ``entries``, in log order.

    Entries that are not records, or not signed by ``publisher``, are not the
    publisher's word and are skipped; a repeat of an identical record is one record.
    """
    records: list[tuple[int, KeyConfigRecord]] = []
    revoked: set[bytes] = set()
    seen: set[KeyConfigRecord] = set()
    for index, entry in enumerate(entries):
        try:
            record = decode_record(entry).verify(publisher)
        except (DecodeError, LedgerError):
            continue
        if isinstance(record, KeyConfigRecord) and record not in seen:
            seen.add(record)
            records.append((index, record))
        elif isinstance(record, RevocationRecord) and record.kind == "key_config":
            revoked.add(record.target)
    return [
        RecordedConfig(i, r, hashlib.sha256(r.key_config).digest() in revoked) for i, r in records
    ]


def rule_violations(configs: Sequence[RecordedConfig]) -> list[tuple[str, int, str]]:
    """Every break of rules 1 and 2, as ``(check, index, message)``, in log order."""
    out: list[tuple[str, int, str]] = []
    live = [c for c in configs if not c.revoked]
    windows: dict[bytes, RecordedConfig] = {}
    for c in live:
        first = windows.setdefault(c.record.key_config, c)
        if first is not c:
            out.append(
                (
                    "keyconfig.sequence",
                    c.index,
                    f"entry {c.index} records the config of entry {first.index} again"
                    " with another window",
                )
            )
    for prev, c in itertools.pairwise(live):
        if c.not_before <= prev.not_before:
            out.append(
                (
                    "keyconfig.sequence",
                    c.index,
                    f"entry {c.index} starts at {c.not_before}, not after entry"
                    f" {prev.index} ({prev.not_before})",
                )
            )
    for older, c in zip(live, live[2:], strict=False):
        if older.not_after > c.not_before:
            out.append(
                (
                    "keyconfig.overlap",
                    c.index,
                    f"three configs valid at {c.not_before}: entry {older.index} ends at"
                    f" {older.not_after}, after entry {c.index} starts",
                )
            )
    return out


def needs_announcement(configs: Sequence[RecordedConfig], config: RecordedConfig) -> bool:
    """Rule 4: does ``config`` start before some earlier record (revoked or not) ends?"""
    return any(c.index < config.index and c.not_after > config.not_before for c in configs)


def current_config(configs: Sequence[RecordedConfig], now: int) -> RecordedConfig:
    """Rule 3: the config every device uses at ``now``, or LedgerError naming the check.

    Rules 1 and 2 are checked first (``keyconfig.sequence``, ``keyconfig.overlap``).
    """
    broken = rule_violations(configs)
    if broken:
        check, _index, message = broken[0]
        raise LedgerError(check, f"the log breaks the key-config rule: {message}")
    if not configs:
        raise LedgerError("keyconfig.ledger", "no key config is recorded in the ledger")
    started = [c for c in configs if c.not_before <= now]
    if not started:
        raise LedgerError(
            "keyconfig.window",
            "no key config recorded in the ledger has started",
            expected=f">= {min(c.not_before for c in configs)}",
            found=now,
        )
    current = max(started, key=lambda c: (c.not_before, c.index))
    if current.revoked:
        raise LedgerError(
            "keyconfig.revoked",
            f"the key config that started at {current.not_before} is revoked in the ledger;"
            " a device does not fall back to an older one",
            expected="a new key config, announced",
            found=f"entry {current.index}",
        )
    if now >= current.not_after:
        raise LedgerError(
            "keyconfig.window",
            "the current key config has expired and no newer one has started",
            expected=f"{current.not_before}..{current.not_after}",
            found=now,
        )
    return current


def announce_delay(policy: TrustPolicy) -> int:
    """``D`` of rule 4 for a device with this policy: its cosignature max age plus skew."""
    return policy.max_age + policy.max_skew


def witnessed_at(
    note: bytes, policy: TrustPolicy, entries: Sequence[bytes], index: int
) -> tuple[Checkpoint, int]:
    """Open an announcement: a checkpoint holding entry ``index``, cosigned by a quorum.

    Checks the log's signature and a quorum of the trusted witnesses (their age does
    not matter here: this checkpoint is old on purpose), that it is a prefix of
    ``entries`` (its root is the root of the first ``size`` entries) and that it holds
    ``index``. Returns the checkpoint and ``T``, its newest trusted cosignature time.
    """
    try:
        opened = open_checkpoint(note, policy.log, policy.witnesses, origin=policy.origin)
    except (DecodeError, LedgerError) as exc:
        raise LedgerError("keyconfig.announce", f"the announcement does not open: {exc}") from None
    cp = opened.checkpoint
    stamps = {v.verifier.name: v.timestamp for v in opened.cosignatures if v.timestamp is not None}
    if len(stamps) < policy.quorum:
        raise LedgerError(
            "keyconfig.announce",
            "the announcement is not cosigned by a quorum of the trusted witnesses",
            expected=policy.quorum,
            found=len(stamps),
        )
    if not index < cp.size <= len(entries):
        raise LedgerError(
            "keyconfig.announce",
            "the announcement is not a checkpoint between the record and the verified one",
            expected=f"{index + 1}..{len(entries)}",
            found=cp.size,
        )
    if root_from_leaf_hashes([leaf_hash(e) for e in entries[: cp.size]]) != cp.root_hash:
        raise LedgerError(
            "keyconfig.announce", "the announcement's root is not the root of the log's prefix"
        )
    return cp, max(stamps.values())


def check_announced(
    configs: Sequence[RecordedConfig],
    config: RecordedConfig,
    announcement: bytes | None,
    policy: TrustPolicy,
    entries: Sequence[bytes],
) -> int | None:
    """Rule 4 for ``config``: return ``T`` (None when no announcement is needed)."""
    if not needs_announcement(configs, config):
        return None
    if announcement is None:
        raise LedgerError(
            "keyconfig.announce",
            "the key config overlaps an earlier one and the bundle has no announcement",
        )
    _cp, stamp = witnessed_at(announcement, policy, entries, config.index)
    delay = announce_delay(policy)
    if stamp + delay > config.not_before:
        raise LedgerError(
            "keyconfig.announce",
            f"the key config was witnessed {config.not_before - stamp}s before it started;"
            f" the rule asks {delay}s",
            expected=f"witnessed by {config.not_before - delay}",
            found=stamp,
        )
    return stamp


def announcement_violations(
    configs: Sequence[RecordedConfig], stamps: Mapping[int, int], delay: int
) -> list[tuple[str, int, str]]:
    """Rule 4 over a whole log, for an auditor: ``stamps`` maps a record's index to ``T``."""
    out: list[tuple[str, int, str]] = []
    for c in configs:
        if not needs_announcement(configs, c):
            continue
        stamp = stamps.get(c.index)
        if stamp is None:
            out.append(("keyconfig.announce", c.index, f"entry {c.index}: no witnessed checkpoint"))
        elif stamp + delay > c.not_before:
            out.append(
                (
                    "keyconfig.announce",
                    c.index,
                    f"entry {c.index} was witnessed {c.not_before - stamp}s before it started"
                    f" (the rule asks {delay}s)",
                )
            )
    return out
