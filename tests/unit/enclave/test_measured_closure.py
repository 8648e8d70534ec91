"""The release measurement covers every ``privproc`` module an enclave node runs.

A child process starts a node exactly as ``python -m privproc enclave`` does
(the CLI, ``run_node``: logging filter, measurement, hardware, model), with only
``uvicorn.run`` replaced so that it returns instead of serving, then imports
every module of the packages the node serves requests with. Every ``privproc``
module then loaded must be a file :data:`ENCLAVE_CODE` measures.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import privproc
from privproc.attestation.measure import ENCLAVE_CODE, enclave_code_files

_SCRIPT = r"""
import importlib, json, pkgutil, sys
import uvicorn
uvicorn.run = lambda *a, **k: None
from privproc.cli import main
try:
    main(["enclave", "--node-id", "closure", "--home", sys.argv[1],
          "--platform-seed", sys.argv[2], "--port", "1"])
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
import privproc.enclave, privproc.workloads
for pkg in (privproc.enclave, privproc.workloads):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + "."):
        importlib.import_module(info.name)
files = {n: getattr(m, "__file__", None) for n, m in sys.modules.items()
         if n == "privproc" or n.startswith("privproc.")}
print(json.dumps(files))
"""


def _node_modules(tmp_path: Path) -> dict[str, str | None]:
    seed = tmp_path / "seed"
    seed.write_bytes(bytes(range(32)))
    home = tmp_path / "home"
    home.mkdir()
    src = Path(privproc.__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(home), str(seed)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    loaded: dict[str, str | None] = json.loads(out.stdout.strip().splitlines()[-1])
    return loaded


def test_every_module_a_node_runs_is_measured(tmp_path: Path) -> None:
    loaded = _node_modules(tmp_path)
    root = Path(privproc.__file__).resolve().parent
    measured = set(enclave_code_files())
    assert "privproc.enclave.node" in loaded  # the node really started (not an early exit)
    assert "privproc.sealed" in loaded
    missing = []
    for name, file in sorted(loaded.items()):
        assert file is not None, name
        rel = Path(file).resolve().relative_to(root).as_posix()
        if rel not in measured:
            missing.append(rel)
    assert missing == [], f"run by the node but not in ENCLAVE_CODE: {missing}"


def test_every_listed_part_exists() -> None:
    root = Path(privproc.__file__).resolve().parent
    assert all((root / part).exists() for part in ENCLAVE_CODE)
