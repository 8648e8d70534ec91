"""Node helpers for the interop tests.

``ensure_node_modules`` installs the pinned npm packages of tests/interop
(package-lock.json) on first use. Each folder ``tests/interop/<name>/`` pins another
implementation in its ``package.json`` (``make test`` installs them) and has a
``driver.mjs`` that reads a JSON list of jobs on stdin and writes one JSON result
per job on stdout: ``needs`` and ``run_driver`` drive those.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
NODE = shutil.which("node")
PACKAGE = HERE / "node_modules" / "@cloudflare" / "privacypass-ts" / "package.json"


def ensure_node_modules() -> str:
    """Path of ``node``; runs ``npm ci`` once; skips (with the reason) when npm is unreachable."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("interop: node/npm are not installed")
    if not PACKAGE.exists():
        try:
            done = subprocess.run(
                [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
                cwd=HERE,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.skip("interop: npm ci timed out (registry unreachable?)")
        if done.returncode != 0 or not PACKAGE.exists():
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:]
            pytest.skip(f"interop: npm ci failed, registry unreachable? {tail}")
    return node


def needs(folder: Path, module: str) -> list[pytest.MarkDecorator]:
    """The marks of a test module that drives ``folder``'s installed ``module``."""
    return [
        pytest.mark.interop,
        pytest.mark.skipif(
            NODE is None or not (folder / "node_modules" / module).is_dir(),
            reason=f"needs node and `npm install --prefix tests/interop/{folder.name}`",
        ),
    ]


def run_driver(folder: Path, jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send ``jobs`` to ``folder/driver.mjs``; one result comes back per job."""
    assert NODE is not None
    proc = subprocess.run(
        [NODE, str(folder / "driver.mjs")],
        input=json.dumps(jobs).encode(),
        capture_output=True,
        cwd=folder,
        timeout=60,
        check=True,
    )
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    assert len(results) == len(jobs)
    return results
