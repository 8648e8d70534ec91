"""The release measurement covers every ``privproc`` module an enclave node runs.

A child process starts a node exactly as ``python -m privproc.enclave`` does
(the cluster launcher's command: :mod:`privproc.enclave.__main__` run as
``__main__``, then ``run_node``: logging filter, measurement, hardware, model),
with only ``uvicorn.run`` replaced so that it returns instead of serving, then
imports every module of the packages the node serves requests with. Every
``privproc`` module then loaded must be a file :data:`ENCLAVE_CODE` measures,
and none may be the general CLI (``privproc.cli``, ``privproc.commands``), which
is not measured.
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
import importlib, json, pkgutil, runpy, sys
import uvicorn
served = []
uvicorn.run = lambda *a, **k: served.append(1)
home, seed = sys.argv[1], sys.argv[2]
sys.argv = ["-m", "--node-id", "closure", "--home", home,
            "--platform-seed", seed, "--port", "1"]
runpy.run_module("privproc.enclave", run_name="__main__", alter_sys=True)
assert served == [1], "the node did not reach uvicorn.run"
import privproc.enclave, privproc.inference, privproc.workloads
for pkg in (privproc.enclave, privproc.inference, privproc.workloads):
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
    assert "privproc.enclave.__main__" in loaded
    cli = [n for n in loaded if n in ("privproc.cli", "privproc.__main__")]
    cli += [n for n in loaded if n == "privproc.commands" or n.startswith("privproc.commands.")]
    assert cli == [], f"the node loaded the general CLI: {cli}"
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


def test_cli_is_not_measured() -> None:
    measured = set(enclave_code_files())
    assert "cli.py" not in measured
    assert "__main__.py" not in measured
    assert not any(p.startswith("commands/") for p in measured)
    assert "enclave/__main__.py" in measured
