"""The relay never holds protocol code (DESIGN.md, dependency rules)."""

from __future__ import annotations

import ast
from pathlib import Path

import privproc.relay

FORBIDDEN = ("privproc.hpke", "privproc.ohttp", "privproc.tokens")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def test_relay_modules_import_no_protocol_code() -> None:
    folder = Path(privproc.relay.__file__).parent
    files = sorted(folder.glob("*.py"))
    assert files
    for path in files:
        bad = {n for n in _imports(path) if any(n == f or n.startswith(f + ".") for f in FORBIDDEN)}
        assert not bad, f"{path.name} imports {sorted(bad)}"


def test_the_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("from privproc import ohttp\nimport privproc.tokens.client\n")
    assert "privproc.ohttp" in _imports(sample)
    assert "privproc.tokens.client" in _imports(sample)
