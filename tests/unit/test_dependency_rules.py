"""The dependency rules of DESIGN.md, checked on the import statements of every module.

One test file for every rule: cores import no network or database library; the design's
rules per party (relay, gateway, client, workloads); no import cycle among privproc modules.
Function-local imports count: the check walks the whole syntax tree.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import privproc

ROOT = Path(privproc.__file__).parent

#: Network, database and process libraries: what a core never imports.
IO_LIBRARIES = (
    "httpx",
    "starlette",
    "uvicorn",
    "sqlite3",
    "redis",
    "psycopg",
    "socket",
    "subprocess",
    "urllib",
    "http",
    "requests",
    "asyncio",
    "multiprocessing",
    "privproc._http",
    "privproc._sqlite",
)

#: Core modules and folders (DESIGN.md, "Layout"): bytes and ``now`` in, values out.
CORES = (
    "errors.py",
    "_wire.py",
    "hpke.py",
    "_hpke_kems.py",
    "_xwing.py",
    "bhttp.py",
    "ohttp.py",
    "ohttp_chunked.py",
    "sealed.py",
    "limits.py",
    "problem.py",
    "canonical.py",
    "keylife.py",
    "attestation",
    "ledger",
    "tokens",
    "workloads",
    "consent",
)

RULES = {
    # The relay cannot decrypt and never sees a token: it does not even hold the code.
    "relay": (
        "privproc.hpke",
        "privproc.ohttp",
        "privproc.ohttp_chunked",
        "privproc.tokens",
        "privproc.sealed",
    ),
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
        "privproc.ledger_service.app",
        "privproc.ledger_service.storage",
        "privproc.ledger_service.postgres",
        "privproc.cluster",
        "privproc.commands",
    ),
    # The web app is device code too (issue 17): it runs no party and imports no CLI.
    "webapp": (
        "privproc.relay",
        "privproc.gateway",
        "privproc.enclave",
        "privproc.directory",
        "privproc.issuer",
        "privproc.witness",
        "privproc.ledger_service",
        "privproc.cluster",
        "privproc.commands",
        "privproc.cli",
    ),
    # The AI features know no caller: no party, no client, no CLI.
    "workloads": (
        "privproc.enclave",
        "privproc.gateway",
        "privproc.client",
        "privproc.relay",
        "privproc.issuer",
        "privproc.cli",
        "privproc.commands",
        "privproc._http",
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


def _matches(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def _core_files() -> list[Path]:
    out: list[Path] = []
    for entry in CORES:
        path = ROOT / entry
        out.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return out


def _module_name(path: Path) -> str:
    parts = ("privproc", *path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@pytest.mark.parametrize("path", _core_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_core_imports_no_io_library(path: Path) -> None:
    rel = str(path.relative_to(ROOT))
    bad = {n for n in _imports(path) if _matches(n, IO_LIBRARIES)}
    assert not bad, f"core {rel} imports {sorted(bad)}"
    services = ("privproc.cli", "privproc.commands", "privproc.cluster", "privproc.client")
    assert not {n for n in _imports(path) if _matches(n, services)}, rel


@pytest.mark.parametrize("package", sorted(RULES))
def test_package_imports_nothing_forbidden(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    for path in files:
        bad = {n for n in _imports(path) if _matches(n, RULES[package])}
        assert not bad, f"{package}/{path.name} imports {sorted(bad)}"


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        graph[name] = {n for n in _imports(path) if n in modules and n != name}
    return graph


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return []


def test_no_import_cycle() -> None:
    graph = _graph()
    # A package's __init__ re-exports its own modules: an edge from a module to its own
    # package's __init__ is not a cycle of layers, only of that re-export.
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not name.startswith(t + ".")}
    assert _cycle(graph) == []


def test_the_cycle_check_finds_one() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_the_check_sees_lazy_imports(tmp_path: Path) -> None:
    sample = tmp_path / "x.py"
    sample.write_text("def f():\n    from privproc.enclave import node\n    import httpx\n")
    names = _imports(sample)
    assert "privproc.enclave.node" in names
    assert _matches("httpx", IO_LIBRARIES)
    assert "httpx" in names
