"""The researcher documents stay true to the code (issue 19).

docs/security-model.md, SECURITY.md and docs/research.md make claims by naming check
names, files and test functions. This test fails when one of them no longer exists:

* every check name in a check catalog of docs/security-model.md (the first cell of each
  table row between ``<!-- check-catalog:begin -->`` and ``<!-- check-catalog:end -->``,
  in backticks) is a string literal somewhere in ``src/privproc``; and every other
  backticked dotted name in that document that starts with a catalog family (``ledger.``,
  ``keyconfig.``...) is itself in a catalog, so prose cannot name an unchecked check;
* every relative Markdown link in the three documents points to a file or folder that
  exists, and a ``#fragment`` into a Markdown file names one of its headings (GitHub's
  heading anchors);
* every ``path.py::name`` reference (``tests/unit/x.py::test_y``,
  ``src/privproc/m.py::Class::method``) names a function or class defined in that file.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "privproc"
MODEL = ROOT / "docs" / "security-model.md"
DOCS = (MODEL, ROOT / "SECURITY.md", ROOT / "docs" / "research.md")

_CHECK = re.compile(r"[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+")
_BACKTICKED = re.compile(r"`([^`\n]+)`")
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
_REFERENCE = re.compile(r"\b((?:src|tests|bench|scripts)/[\w./-]+\.py)((?:::[A-Za-z_]\w*)+)")
_BEGIN, _END = "<!-- check-catalog:begin -->", "<!-- check-catalog:end -->"
#: Last segments that make a dotted name a file name, not a check.
_FILE_SUFFIXES = frozenset({"md", "py", "json", "jsonl", "db", "sqlite", "sqlite3", "pem", "key"})


# --- extraction (pure functions of a document's text) -------------------------------


def catalog_checks(text: str) -> list[str]:
    """The check names of every catalog table: the backticked first cell of each row."""
    names: list[str] = []
    for block in text.split(_BEGIN)[1:]:
        if _END not in block:
            raise AssertionError("a check catalog is not closed")
        for line in block.split(_END, 1)[0].splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not line.startswith("|") or set(cells[0]) <= set("-: "):
                continue
            found = _BACKTICKED.fullmatch(cells[0])
            if found is not None and _CHECK.fullmatch(found.group(1)):
                names.append(found.group(1))
    return names


def prose_checks(text: str, families: set[str]) -> set[str]:
    """Backticked dotted names outside the catalogs that start with a catalog family."""
    outside = text
    while _BEGIN in outside:
        head, rest = outside.split(_BEGIN, 1)
        outside = head + rest.split(_END, 1)[-1]
    return {
        name
        for name in _BACKTICKED.findall(outside)
        if _CHECK.fullmatch(name)
        and name.split(".")[0] in families
        and name.rsplit(".", 1)[-1] not in _FILE_SUFFIXES
    }


def links(text: str) -> list[str]:
    """Every relative link target (no scheme), including same-document ``#fragments``."""
    return [t for t in _LINK.findall(text) if not re.match(r"[a-z][a-z0-9+.-]*:", t)]


def references(text: str) -> set[tuple[str, tuple[str, ...]]]:
    """Every ``path.py::name[::name]`` reference, as (path, names)."""
    return {(path, tuple(names.split("::")[1:])) for path, names in _REFERENCE.findall(text)}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(markdown: str) -> set[str]:
    """The anchors of a Markdown file's headings (outside code fences)."""
    out: set[str] = set()
    fenced = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6} (.+)", line)):
            out.add(slug(m.group(1)))
    return out


def defined(path: Path, names: tuple[str, ...]) -> bool:
    """Is ``names`` (a function, a class, a method of a class...) defined in ``path``?"""
    body: list[ast.stmt] = ast.parse(path.read_text(encoding="utf-8")).body
    for name in names:
        match = next(
            (
                node
                for node in body
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
                and node.name == name
            ),
            None,
        )
        if match is None:
            return False
        body = match.body
    return True


@cache
def source_strings() -> frozenset[str]:
    """Every string literal in ``src/privproc``."""
    out: set[str] = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                out.add(node.value)
    return frozenset(out)


def missing_checks(text: str) -> list[str]:
    """Catalog names that are no string in the code, then prose names not in a catalog."""
    catalog = catalog_checks(text)
    families = {name.split(".")[0] for name in catalog}
    gone = [n for n in catalog if n not in source_strings()]
    uncatalogued = sorted(prose_checks(text, families) - set(catalog))
    return gone + [f"{n} (not in the catalog)" for n in uncatalogued]


def broken_links(doc: Path, text: str) -> list[str]:
    """Link targets of ``doc`` that do not exist, or name no heading of their file."""
    out: list[str] = []
    for target in links(text):
        path_part, _, fragment = target.partition("#")
        path = (doc.parent / path_part).resolve() if path_part else doc
        if not path.exists():
            out.append(target)
            continue
        if fragment and path.suffix == ".md" and fragment not in anchors(path.read_text()):
            out.append(target)
    return out


def unknown_references(text: str) -> list[str]:
    """``path::name`` references whose file or definition does not exist."""
    out: list[str] = []
    for path, names in sorted(references(text)):
        file = ROOT / path
        if not file.is_file() or not defined(file, names):
            out.append("::".join((path, *names)))
    return out


# --- the documents ----------------------------------------------------------------


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_document_exists_and_is_linked_from_readme(doc: Path) -> None:
    assert doc.is_file()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert str(doc.relative_to(ROOT)) in links(readme)


def test_security_model_check_names_exist_in_the_code() -> None:
    text = MODEL.read_text(encoding="utf-8")
    assert len(catalog_checks(text)) >= 60, "the check catalog went missing"
    assert missing_checks(text) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_linked_files_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert links(text), f"{doc.name} links to nothing"
    assert broken_links(doc, text) == []


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: d.name)
def test_named_test_functions_exist(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert references(text), f"{doc.name} names no test or function"
    assert unknown_references(text) == []


# --- the checker finds what it must find ----------------------------------------------


_SAMPLE = f"""
Prose naming `ledger.fork` and `ledger.no_such_check`, and a file `ledger.md`.
{_BEGIN}
| check | refuses when |
|---|---|
| `ledger.fork` | same size, another root |
| `keyconfig.made_up_check` | never |
{_END}
See [a file](no/such/file.py), [a heading](#nowhere), [this page](#a-heading),
[a missing page's heading](no/such/page.md#top) and
`tests/unit/test_security_docs.py::test_no_such_test`,
`tests/unit/test_security_docs.py::test_named_test_functions_exist`.

## A heading
"""


def test_checker_reports_a_renamed_check_and_an_uncatalogued_one() -> None:
    assert catalog_checks(_SAMPLE) == ["ledger.fork", "keyconfig.made_up_check"]
    assert missing_checks(_SAMPLE) == [
        "keyconfig.made_up_check",
        "ledger.no_such_check (not in the catalog)",
    ]


def test_checker_reports_a_missing_file_and_heading(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(_SAMPLE)
    assert broken_links(doc, _SAMPLE) == ["no/such/file.py", "#nowhere", "no/such/page.md#top"]


def test_checker_reports_a_missing_test_function() -> None:
    assert unknown_references(_SAMPLE) == ["tests/unit/test_security_docs.py::test_no_such_test"]


def test_slug_matches_github_anchors() -> None:
    sealed = "sealed-request-format-privprocsealed"
    assert slug("Sealed request format (`privproc.sealed`)") == sealed
    assert slug("Not done / limits") == "not-done--limits"
    assert slug("5. Stateless and forward-secure") == "5-stateless-and-forward-secure"
