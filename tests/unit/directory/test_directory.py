"""The directory's documents: the same bytes for everyone, with ETag and 304."""

from __future__ import annotations

import base64

from starlette.requests import Request

from privproc.directory.app import _static
from privproc.directory.bundle import LogView
from privproc.ledger.merkle import leaf_hash, verify_inclusion
from tests._world import World, loads


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/nodes", "headers": raw})


def test_etag_and_not_modified() -> None:
    first = _static(b"doc", "application/json", _request({}), 5)
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, max-age=5"
    again = _static(b"doc", "application/json", _request({"if-none-match": etag}), 5)
    assert again.status_code == 304
    changed = _static(b"doc2", "application/json", _request({"if-none-match": etag}), 5)
    assert changed.status_code == 200


def test_bundle_proofs_verify_and_missing_records_are_null() -> None:
    world = World(extra_entries=5)
    _, bundle = world.documents()
    doc = loads(bundle)
    entries = world.entries()
    view = LogView(world.checkpoint_note(entries), entries)
    for index in range(len(entries)):
        b = view.bundle(index)
        verify_inclusion(leaf_hash(b.entry), index, len(entries), b.proof, view.tree.root())
    assert all(n["release"] is not None for n in doc["nodes"])
    unrecorded = loads(World(record_release=False).documents()[1])
    assert all(n["release"] is None for n in unrecorded["nodes"])


def test_bundle_carries_every_entry_in_log_order() -> None:
    world = World(extra_entries=3, revocations=[("measurement", bytes(48), 2)])
    doc = loads(world.documents()[1])
    assert [base64.b64decode(e) for e in doc["entries"]] == world.entries()
