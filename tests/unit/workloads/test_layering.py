"""DESIGN.md's dependency rules for workloads: no service, client or CLI imports, and
HTTP only in the OpenAI-compatible backend."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import privproc.workloads

FOLDER = Path(privproc.workloads.__file__).parent
FORBIDDEN = (
    "privproc.enclave",
    "privproc.gateway",
    "privproc.client",
    "privproc.relay",
    "privproc.issuer",
    "privproc.cli",
    "privproc.commands",
    "privproc._http",
)
NETWORK = ("httpx", "socket", "urllib", "http", "requests", "starlette", "uvicorn")


def _imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("path", sorted(FOLDER.glob("*.py")), ids=lambda p: p.name)
def test_imports_follow_the_layering(path: Path) -> None:
    imports = _imports(path)
    assert not {m for m in imports if m.startswith(FORBIDDEN)}
    if path.name != "openai_compat.py":
        assert not {m for m in imports if m.split(".")[0] in NETWORK}
