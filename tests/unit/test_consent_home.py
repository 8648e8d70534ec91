"""The consent home publishes its admin token and signing key atomically.

A second replica starting while the first is still writing must see no file (and
make its own, of which one wins) or the whole file, never an empty one.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from privproc.consent_service.home import ConsentHome

_real_fdopen = os.fdopen


def _two_creators(
    monkeypatch: pytest.MonkeyPatch, create: Callable[[], object]
) -> tuple[object, object]:
    """Run ``create`` in a thread whose file write stalls while the main thread runs it too."""
    writing = threading.Event()
    second_done = threading.Event()
    slow = threading.current_thread()  # replaced by the creator thread below

    class _SlowFile:
        def __init__(self, handle: Any) -> None:
            self._handle = handle

        def write(self, data: bytes) -> int:
            writing.set()
            second_done.wait(5.0)  # bounded: the other creator has gone through by then
            return int(self._handle.write(data))

        def __getattr__(self, name: str) -> Any:
            return getattr(self._handle, name)

        def __enter__(self) -> _SlowFile:
            return self

        def __exit__(self, *exc: object) -> None:
            self._handle.close()

    def fdopen(fd: int, *args: Any, **kwargs: Any) -> Any:
        handle = _real_fdopen(fd, *args, **kwargs)
        return _SlowFile(handle) if threading.current_thread() is slow else handle

    monkeypatch.setattr(os, "fdopen", fdopen)
    results: dict[str, object] = {}

    def first() -> None:
        try:
            results["first"] = create()
        except Exception as exc:  # reported below
            results["first"] = exc

    thread = threading.Thread(target=first)
    slow = thread
    thread.start()
    try:
        assert writing.wait(5.0)
        try:
            results["second"] = create()
        except Exception as exc:  # reported below
            results["second"] = exc
    finally:
        second_done.set()
        thread.join(10.0)
    assert not thread.is_alive()
    return results["first"], results["second"]


def test_concurrent_admin_tokens_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = ConsentHome(tmp_path / "consent")
    first, second = _two_creators(monkeypatch, home.admin_token)
    assert isinstance(first, str), first
    assert isinstance(second, str), second
    assert first == second != ""
    assert home.admin_token() == first
    path = home.root / "admin-token"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in home.root.iterdir()) == ["admin-token"]  # no temp left


def test_concurrent_signing_keys_agree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    home = ConsentHome(tmp_path / "consent")
    first, second = _two_creators(monkeypatch, home.signing_key)

    def raw(key: object) -> bytes:
        assert not isinstance(key, Exception), key
        return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)  # type: ignore[attr-defined, no-any-return]

    assert raw(first) == raw(second) == raw(home.signing_key())
    path = home.root / "signing-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in home.root.iterdir()) == ["signing-key.pem"]
