"""The dependency rules of DESIGN.md, checked on the import statements of each package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import privproc

ROOT = Path(privproc.__file__).parent

RULES = {
    # The relay cannot decrypt and never sees a token: it does not even hold the code.
    "relay": ("privproc.hpke", "privproc.ohttp", "privproc.tokens", "privproc.sealed"),
    # The operator's gateway never runs the AI and knows nodes only by address.
    "gateway": ("privproc.workloads", "privproc.enclave"),
    # Device code never imports server code.
    "client": (
        "privproc.relay",
        "privproc.gateway",
        "privproc.enclave",
        "privproc.directory",
        "privproc.issuer",
        "privproc.witness",
        "privproc.ledger.service",
        "privproc.ledger.storage",
        "privproc.cluster",
        "privproc.commands",
    ),
}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_nothing_forbidden(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        bad = {
            n
            for n in _imports(path)
            if any(n == f or n.startswith(f + ".") for f in RULES[package])
        }
        assert not bad, f"{package}/{path.name} imports {sorted(bad)}"


def test_the_check_sees_lazy_imports(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from privproc.enclave import node\n")
    assert "privproc.enclave.node" in _imports(sample)
