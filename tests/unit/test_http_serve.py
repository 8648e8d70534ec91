"""Every privproc server runs on uvloop with uvicorn's httptools parser (issue 18 item 2):
``serve`` names both rather than uvicorn's "auto", so a missing one fails at start."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import uvicorn

from privproc import _http


def test_serve_names_uvloop_and_httptools(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}

    def run(app: object, **kwargs: Any) -> None:
        seen.update(kwargs)

    monkeypatch.setattr(uvicorn, "run", run)
    _http.serve(lambda *_a: None, "127.0.0.1", 9)  # type: ignore[arg-type]
    assert seen["loop"] == "uvloop"
    assert seen["http"] == "httptools"
    assert seen["access_log"] is False
    assert seen["server_header"] is False


@pytest.mark.parametrize("module", ["uvloop", "httptools"])
def test_the_fast_server_parts_are_installed(module: str) -> None:
    importlib.import_module(module)


def test_uvicorn_resolves_the_named_parts() -> None:
    """uvicorn's own loader accepts the names (a typo would fail here, not in production)."""
    config = uvicorn.Config(lambda *_a: None, loop=_http.UVICORN_LOOP, http=_http.UVICORN_HTTP)
    config.load()
    assert config.http_protocol_class.__module__.endswith("httptools_impl")
