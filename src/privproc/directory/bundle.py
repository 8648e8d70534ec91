"""Assembling the node bundle from fetched parts (pure; docs/e2e.md "Node bundle").

::

    {"version": 1,
     "checkpoint": "<signed, cosigned checkpoint note>",
     "key_configs": [{"config": b64 KeyConfig, "ledger": InclusionBundle | null,
                      "announced": "<first witnessed checkpoint holding it>" | null}],
     "nodes": [{"node", "url"?, "public_key", "key_id", "measurement", "evidence",
                "witnessed": "<checkpoint note the evidence binds>" | null,
                "gpu": {"report": b64 SPDM transcript, "chain": PEM} | null,
                "release": InclusionBundle | null}],
     "entries": [b64 entry, ...]}

An ``InclusionBundle`` is the ledger's JSON encoding. ``null`` means the
directory found no record: a device refuses that node or config. ``entries`` is
every entry of the log up to the checkpoint, as read through the C2SP
tlog-tiles API: the device hashes them to the checkpoint's root and so proves
that no revocation record names a measurement or key config it uses
(:func:`privproc.ledger.verifier.verify_not_revoked`), and derives from them the key
config the key-consistency rule makes current (:mod:`privproc.ledger.keyconsistency`);
``announced`` is that rule's proof that a config was in the witnessed log early enough
(the ledger's ``GET /checkpoint/witnessed``).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from privproc.canonical import canonical_json
from privproc.errors import DecodeError
from privproc.ledger.merkle import MemoryTree, inclusion_proof
from privproc.ledger.records import KeyConfigRecord, ReleaseRecord, decode_record
from privproc.ledger.verifier import InclusionBundle

__all__ = ["BUNDLE_VERSION", "LogView", "build_bundle"]

BUNDLE_VERSION = 1


class LogView:
    """Every entry of the log up to a checkpoint, with the tree to prove inclusion."""

    def __init__(self, checkpoint_note: bytes, entries: Sequence[bytes]) -> None:
        self.checkpoint_note = checkpoint_note
        self.entries = list(entries)
        self.tree = MemoryTree()
        for entry in self.entries:
            self.tree.append(entry)

    def bundle(self, index: int) -> InclusionBundle:
        """The inclusion bundle of entry ``index`` against this checkpoint."""
        size = len(self.entries)
        proof = inclusion_proof(self.tree, index, size)
        return InclusionBundle(self.checkpoint_note, index, self.entries[index], tuple(proof))

    def find_release(self, measurement: bytes) -> int | None:
        """Index of the newest release record whose platform's measurement is ``measurement``."""
        return self._find(
            lambda r: (
                isinstance(r, ReleaseRecord) and r.measurement_for(r.cpu_platform) == measurement
            )
        )

    def find_key_config(self, config: bytes) -> int | None:
        """Index of the first key-config record holding ``config`` (a repeat of an
        identical record is the same record: privproc.ledger.keyconsistency)."""
        return self._find(
            lambda r: isinstance(r, KeyConfigRecord) and r.key_config == config, newest=False
        )

    def _find(self, match: Any, *, newest: bool = True) -> int | None:
        order = range(len(self.entries) - 1, -1, -1) if newest else range(len(self.entries))
        for index in order:
            try:
                record = decode_record(self.entries[index]).record
            except DecodeError:
                continue
            if match(record):
                return index
        return None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def build_bundle(
    log: LogView,
    key_configs: Sequence[bytes],
    nodes: Sequence[Mapping[str, Any]],
    announcements: Mapping[int, bytes] | None = None,
) -> bytes:
    """The node bundle document (canonical JSON bytes).

    ``announcements`` maps a key-config record's log index to the first witnessed
    checkpoint that holds it.
    """
    configs = []
    for config in key_configs:
        index = log.find_key_config(config)
        proof = None if index is None else json.loads(log.bundle(index).encode())
        note = None if index is None else (announcements or {}).get(index)
        configs.append(
            {
                "config": _b64(config),
                "ledger": proof,
                "announced": None if note is None else note.decode("utf-8"),
            }
        )
    out_nodes = []
    for doc in nodes:
        index = log.find_release(bytes.fromhex(str(doc["measurement"])))
        release = None if index is None else json.loads(log.bundle(index).encode())
        out_nodes.append(
            {
                "node": doc["node"],
                "public_key": doc["public_key"],
                "key_id": doc["key_id"],
                "measurement": doc["measurement"],
                "evidence": doc["evidence"],
                "model_digest": doc.get("model_digest"),
                "witnessed": doc.get("witnessed"),
                "gpu": doc.get("gpu"),
                "release": release,
            }
        )
    document = {
        "version": BUNDLE_VERSION,
        "checkpoint": log.checkpoint_note.decode("utf-8"),
        "key_configs": configs,
        "nodes": sorted(out_nodes, key=lambda n: str(n["node"])),
        "entries": [_b64(entry) for entry in log.entries],
    }
    return canonical_json(document)
