"""The gateway's key sequence on disk, so a restart keeps the keys the ledger records.

A restarted gateway that made fresh keys would have to wait out the announcement of
the key-consistency rule (:mod:`privproc.ledger.keyconsistency`, rule 4) before
serving again, so the sequence is kept in one JSON file, mode 0600, written
atomically (temp file, fsync, rename): a list of ``{"config": hex of the RFC 9458 §3
key config, "private": hex, "not_before": int, "not_after": int}``. The file holds
private keys: it lives in the gateway's home and nowhere else.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

from privproc.errors import ConfigError, PrivprocError, StoreError
from privproc.gateway.keys import ActiveKey
from privproc.ohttp import KeyConfig, ServerKey

__all__ = ["load_keys", "save_keys"]


def load_keys(path: Path) -> list[ActiveKey]:
    """The saved sequence, oldest first; ``[]`` when there is no file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(f"cannot read the gateway key file: {type(exc).__name__}") from None
    try:
        items = json.loads(text)
        return [_entry(item) for item in _list(items)]
    except (ValueError, TypeError, KeyError, PrivprocError) as exc:
        raise ConfigError(
            f"the gateway key file {path} is corrupt ({type(exc).__name__}); move it away"
            " to start a new key sequence"
        ) from None


def save_keys(path: Path, keys: Sequence[ActiveKey]) -> None:
    """Atomically replace the saved sequence with ``keys``."""
    body = json.dumps(
        [
            {
                "config": k.key.config.encode().hex(),
                "private": k.key.private_key.hex(),
                "not_before": k.not_before,
                "not_after": k.not_after,
            }
            for k in keys
        ]
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".ohttp-keys-")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(body)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise StoreError(f"cannot write the gateway key file: {type(exc).__name__}") from None


def _list(items: object) -> list[object]:
    if not isinstance(items, list):
        raise TypeError("not a list")
    return items


def _entry(item: object) -> ActiveKey:
    if not isinstance(item, dict):
        raise TypeError("entry is not an object")
    config = KeyConfig.decode(bytes.fromhex(item["config"]))
    key = ServerKey(config, bytes.fromhex(item["private"]))
    not_before, not_after = item["not_before"], item["not_after"]
    if not (isinstance(not_before, int) and isinstance(not_after, int) and not_before < not_after):
        raise ValueError("bad window")
    return ActiveKey(key, not_before, not_after)
