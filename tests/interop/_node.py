"""Install the pinned npm packages of tests/interop (package-lock.json) on first use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
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
