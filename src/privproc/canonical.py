"""The one canonical JSON encoding every signed or hashed document uses.

Object keys sorted, no whitespace (``separators=(",", ":")``), ASCII only (non-ASCII as
``\\uXXXX`` escapes), UTF-8 bytes out: one value has exactly one encoding, so a
signature or hash over it can be checked by re-encoding what was parsed (the ledger's
records, consent events and receipts, the directory bundle, inclusion bundles).
"""

from __future__ import annotations

import json

__all__ = ["canonical_json"]


def canonical_json(value: object) -> bytes:
    """Sorted keys, no whitespace, ASCII: the one encoding of a JSON value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
