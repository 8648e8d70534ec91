"""Shared fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci", max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


# Test tiers (docs/testing.md). The folder says the tier; a unit test that starts a real
# server (Redis, PostgreSQL) is marked ``services`` so ``make check`` can leave it out.
_FOLDER_MARKS = {
    "system": "system",
    "browser": "system",
    "interop": "interop",
    "integration": "services",
}
_SERVICE_FIXTURES = frozenset({"redis_url", "postgres_url", "postgres_dsn"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with its tier: its folder, or the real servers its fixtures start."""
    root = Path(__file__).parent
    for item in items:
        folder = Path(item.path).relative_to(root).parts[0]
        mark = _FOLDER_MARKS.get(folder)
        if mark is not None:
            item.add_marker(getattr(pytest.mark, mark))
        callspec = getattr(item, "callspec", None)
        params = {repr(v) for v in callspec.params.values()} if callspec is not None else set()
        fixtures = set(getattr(item, "fixturenames", ()))
        if fixtures & _SERVICE_FIXTURES or {"'redis'", "'postgres'"} & params:
            item.add_marker(pytest.mark.services)
