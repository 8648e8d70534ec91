"""The device's local report of each request: what was sent, where, when.

One JSON line per request in ``$PRIVPROC_HOME/client/reports.jsonl``: the
feature, the size of the sealed request, the K nodes named (with their
measurements and ledger indexes), the node that answered, the checkpoint size,
the key config and the time. No message content.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from privproc.errors import StoreError

__all__ = ["ReportEntry", "append_report", "read_reports"]


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """One request, as the device recorded it."""

    time: str
    feature: str
    sealed_bytes: int
    named: tuple[dict[str, Any], ...]
    answered_by: str
    measurement: str
    release_index: int
    checkpoint_size: int
    key_config_id: int
    key_config_index: int
    #: SHA-256 of the model the answering node's release serves (hex).
    model_digest: str = ""


def append_report(home: Path, entry: ReportEntry) -> None:
    """Add ``entry`` to the report file."""
    try:
        home.mkdir(parents=True, exist_ok=True)
        with (home / "reports.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps(asdict(entry), sort_keys=True) + "\n")
    except OSError as exc:
        raise StoreError(f"cannot write the request report: {type(exc).__name__}") from None


def read_reports(home: Path) -> list[dict[str, Any]]:
    """Every recorded request, oldest first."""
    try:
        lines = (home / "reports.jsonl").read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StoreError(f"cannot read the request report: {type(exc).__name__}") from None
    return [json.loads(line) for line in lines if line.strip()]
