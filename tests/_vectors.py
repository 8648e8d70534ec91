"""One helper to load test vectors: data files under tests/vectors/data/, sources recorded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "vectors" / "data"
SHARED = Path(__file__).resolve().parents[2] / "shared"


def vector_path(*parts: str) -> Path:
    """Path of a vector file; every folder holds a SOURCES.md naming where it came from."""
    return DATA.joinpath(*parts)


def load_json(*parts: str) -> Any:
    """Load a JSON vector file."""
    return json.loads(vector_path(*parts).read_text())
