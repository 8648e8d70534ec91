"""Offline audit of a fetched log: re-derive every tile and the root from the entries.

Fetch first (:class:`privproc.ledger_service.client.LedgerClient`), then :func:`audit_log`
checks, with no I/O:

1. the checkpoint's log signature, and which known witnesses cosigned it;
2. every entry bundle holds exactly the entries its tile says (tlog-tiles);
3. every level-0 tile equals the leaf hashes of its entries (RFC 9162 §2.1.1);
4. every higher tile hash equals the Merkle root of the full tile below it;
5. the root over all entries equals the checkpoint's root hash;
6. with a previous checkpoint: the new tree is an extension of it (the old root
   recomputed from the same entries, and an RFC 9162 consistency proof built from
   the tiles verifies);
7. every entry that is a record parses strictly, and with a publisher key its
   signature verifies;
8. with a publisher key: the key-config records keep the key-consistency rule
   (:mod:`privproc.ledger.keyconsistency`: ``keyconfig.sequence``, ``.overlap``), and
   with witness keys and an ``announcements`` source, every overlapping config was
   witnessed ``announce_delay`` seconds before it started (``keyconfig.announce``).

The first failure raises LedgerError (or ProofError/ForkError) naming the check.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from privproc.errors import DecodeError, ForkError, LedgerError
from privproc.ledger.checkpoint import Checkpoint, open_checkpoint
from privproc.ledger.keyconsistency import (
    RecordedConfig,
    announcement_violations,
    needs_announcement,
    recorded_configs,
    rule_violations,
    witnessed_at,
)
from privproc.ledger.merkle import (
    HASH_SIZE,
    MemoryTree,
    consistency_proof,
    leaf_hash,
    root_from_leaf_hashes,
    verify_consistency,
)
from privproc.ledger.note import Ed25519Verifier, NoteVerifier
from privproc.ledger.records import ReleaseRecord, RevocationRecord, decode_record
from privproc.ledger.tiles import (
    ENTRIES_LEVEL,
    TILE_WIDTH,
    TileHashes,
    TileRef,
    decode_entry_bundle,
    tiles_for_size,
)
from privproc.ledger.verifier import TrustPolicy

__all__ = ["AuditReport", "audit_log"]


@dataclass(frozen=True, slots=True)
class AuditReport:
    """What a successful audit established."""

    origin: str
    size: int
    root_hash: bytes
    cosigners: tuple[tuple[str, int], ...]
    tiles_checked: int
    bundles_checked: int
    records: tuple[tuple[str, int], ...]
    opaque_entries: int
    signatures_checked: int
    consistent_with: int | None
    #: (index, component, version) of every release record.
    releases: tuple[tuple[int, str, str], ...] = ()
    #: (index, kind, target hex) of every revocation record.
    revocations: tuple[tuple[int, str, str], ...] = ()
    #: Publisher-signed key-config records, and what was checked of the key rule.
    key_configs: int = 0
    key_rule: str = "not checked (no publisher key)"
    #: Every entry, re-derived and checked against the root (for checks that follow,
    #: e.g. ``privproc audit --node``).
    entries: tuple[bytes, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly view."""
        return {
            "origin": self.origin,
            "size": self.size,
            "root_hash": self.root_hash.hex(),
            "cosigners": [{"name": n, "timestamp": t} for n, t in self.cosigners],
            "tiles_checked": self.tiles_checked,
            "bundles_checked": self.bundles_checked,
            "records": dict(self.records),
            "opaque_entries": self.opaque_entries,
            "record_signatures_checked": self.signatures_checked,
            "consistent_with_size": self.consistent_with,
            "releases": [{"index": i, "component": c, "version": v} for i, c, v in self.releases],
            "revocations": [{"index": i, "kind": k, "target": t} for i, k, t in self.revocations],
            "key_configs": self.key_configs,
            "key_rule": self.key_rule,
        }


def _hashes(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


def audit_log(
    checkpoint: bytes,
    log: NoteVerifier,
    tiles: Mapping[TileRef, bytes],
    *,
    witnesses: Sequence[NoteVerifier] = (),
    publisher: Ed25519Verifier | None = None,
    previous: Checkpoint | None = None,
    announcements: Callable[[int], bytes | None] | None = None,
    announce_delay: int = 900,
    quorum: int | None = None,
) -> AuditReport:
    """Audit a fetched log (``tiles`` holds every tile and entry bundle of its size).

    ``announcements(index)``: the first witnessed checkpoint holding entry ``index``
    (the ledger's ``GET /checkpoint/witnessed``); ``announce_delay``: ``D`` of the
    key-consistency rule, the devices' cosignature max age plus skew (600 + 300);
    ``quorum``: how many of ``witnesses`` must cosign an announcement (default all).
    """
    opened = open_checkpoint(checkpoint, log, witnesses)
    cp = opened.checkpoint
    expected = tiles_for_size(cp.size)
    # 2-3. Entries against level-0 tiles.
    entries: list[bytes] = []
    leaves: list[bytes] = []
    bundles = 0
    for ref in (r for r in expected if r.level == 0):
        bref = TileRef(ENTRIES_LEVEL, ref.index, ref.width)
        data, tile = tiles.get(bref), tiles.get(ref)
        if data is None or tile is None:
            raise LedgerError("audit.missing", f"missing {bref.path()} or {ref.path()}")
        try:
            chunk = decode_entry_bundle(data, ref.width)
        except DecodeError as exc:
            raise LedgerError("audit.bundle", f"{bref.path()}: {exc}") from None
        hashes = [leaf_hash(e) for e in chunk]
        if b"".join(hashes) != tile:
            raise LedgerError("audit.tile.level0", f"{ref.path()} is not the hashes of its entries")
        entries.extend(chunk)
        leaves.extend(hashes)
        bundles += 1
    # 4. Higher tiles: each hash is the root of a full tile one level down.
    checked = bundles
    for ref in (r for r in expected if r.level > 0):
        tile = tiles.get(ref)
        if tile is None:
            raise LedgerError("audit.missing", f"missing {ref.path()}")
        got = _hashes(tile)
        for i, h in enumerate(got):
            below = tiles.get(TileRef(ref.level - 1, ref.index * TILE_WIDTH + i))
            if below is None or len(below) != TILE_WIDTH * HASH_SIZE:
                raise LedgerError("audit.missing", f"missing full tile below {ref.path()}")
            if root_from_leaf_hashes(_hashes(below)) != h:
                raise LedgerError(
                    "audit.tile.level", f"{ref.path()} hash {i} is not the root of the tile below"
                )
        checked += 1
    # 5. The root.
    tree = MemoryTree()
    for h in leaves:
        tree.append_leaf_hash(h)
    if tree.root() != cp.root_hash:
        raise LedgerError(
            "audit.root",
            "entries do not hash to the checkpoint's root",
            expected=cp.root_hash.hex(),
            found=tree.root().hex(),
        )
    # 6. Consistency with a previous checkpoint.
    if previous is not None:
        _check_previous(previous, cp, tree, tiles)
    # 7. Records.
    kinds, opaque, sigs, releases, revocations = _check_records(entries, publisher)
    # 8. The key-consistency rule.
    configs: list[RecordedConfig] = []
    key_rule = "not checked (no publisher key)"
    if publisher is not None:
        configs = recorded_configs(entries, publisher)
        key_rule = _check_key_rule(
            configs,
            entries,
            log=log,
            witnesses=witnesses,
            origin=cp.origin,
            quorum=quorum or len(witnesses),
            announcements=announcements,
            delay=announce_delay,
        )
    return AuditReport(
        origin=cp.origin,
        size=cp.size,
        root_hash=cp.root_hash,
        cosigners=tuple((v.verifier.name, v.timestamp or 0) for v in opened.cosignatures),
        tiles_checked=checked,
        bundles_checked=bundles,
        records=tuple(sorted(kinds.items())),
        opaque_entries=opaque,
        signatures_checked=sigs,
        consistent_with=None if previous is None else previous.size,
        releases=tuple(releases),
        revocations=tuple(revocations),
        key_configs=len(configs),
        key_rule=key_rule,
        entries=tuple(entries),
    )


def _check_key_rule(
    configs: Sequence[RecordedConfig],
    entries: Sequence[bytes],
    *,
    log: NoteVerifier,
    witnesses: Sequence[NoteVerifier],
    origin: str,
    quorum: int,
    announcements: Callable[[int], bytes | None] | None,
    delay: int,
) -> str:
    """Rules 1, 2 and (with witness keys and announcements) 4; raises on the first break."""
    broken = rule_violations(configs)
    checked = "sequence and overlap kept"
    if witnesses and announcements is not None:
        policy = TrustPolicy(log, tuple(witnesses), quorum, max_age=1, origin=origin)
        stamps: dict[int, int] = {}
        for c in configs:
            note = announcements(c.index) if needs_announcement(configs, c) else None
            if note is not None:
                try:
                    stamps[c.index] = witnessed_at(note, policy, entries, c.index)[1]
                except LedgerError as exc:
                    broken.append((exc.check, c.index, f"entry {c.index}: {exc}"))
        broken += announcement_violations(configs, stamps, delay)
        checked += f"; every overlapping config announced {delay}s ahead"
    else:
        checked += "; announcements not checked (no witness keys)"
    if broken:
        check, _index, message = min(broken, key=lambda b: b[1])
        raise LedgerError(
            check, f"the log breaks the key-consistency rule ({len(broken)} breaks): {message}"
        )
    return checked


def _check_previous(
    previous: Checkpoint, cp: Checkpoint, tree: MemoryTree, tiles: Mapping[TileRef, bytes]
) -> None:
    if previous.origin != cp.origin:
        raise ForkError("audit.origin", "another log", expected=previous.origin, found=cp.origin)
    if previous.size > cp.size:
        raise ForkError(
            "audit.rollback", "the log shrank", expected=f">= {previous.size}", found=cp.size
        )
    if tree.root(previous.size) != previous.root_hash:
        raise ForkError(
            "audit.consistency",
            f"the first {previous.size} entries no longer hash to the earlier root",
            expected=previous.root_hash.hex(),
            found=tree.root(previous.size).hex(),
        )
    if 0 < previous.size < cp.size:
        src = TileHashes({(r.level, r.index): d for r, d in tiles.items() if r.level >= 0})
        proof = consistency_proof(src, previous.size, cp.size)
        verify_consistency(previous.size, cp.size, proof, previous.root_hash, cp.root_hash)


def _check_records(
    entries: Sequence[bytes], publisher: Ed25519Verifier | None
) -> tuple[Counter[str], int, int, list[tuple[int, str, str]], list[tuple[int, str, str]]]:
    kinds: Counter[str] = Counter()
    opaque = sigs = 0
    releases: list[tuple[int, str, str]] = []
    revocations: list[tuple[int, str, str]] = []
    for i, e in enumerate(entries):
        try:
            signed = decode_record(e)
        except DecodeError:
            opaque += 1
            continue
        rec = signed.record
        kinds[type(rec).__name__] += 1
        if isinstance(rec, ReleaseRecord):
            releases.append((i, rec.component, rec.version))
        elif isinstance(rec, RevocationRecord):
            revocations.append((i, rec.kind, rec.target.hex()))
        if publisher is not None:
            try:
                signed.verify(publisher)
            except LedgerError as exc:
                raise LedgerError(exc.check, f"entry {i}: {exc}") from None
            sigs += 1
    return kinds, opaque, sigs, releases, revocations
