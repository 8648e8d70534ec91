"""Supervised loops (issue 12 item 5): a failing step never ends the loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest

from privproc._supervise import LoopState, backoff, supervise
from privproc.errors import StoreError

CANARY = "CANARY-loop-7f3a"


def test_backoff_doubles_to_a_cap() -> None:
    assert [backoff(n, 1.0, 10.0) for n in range(6)] == [1.0, 1.0, 2.0, 4.0, 8.0, 10.0]
    assert backoff(10**6, 1.0, 10.0) == 10.0


def test_loop_survives_failures_and_recovers(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    failures: list[str] = []

    async def step() -> None:
        calls.append(len(calls))
        if len(calls) <= 3:
            raise (StoreError if len(calls) % 2 else RuntimeError)(f"secret {CANARY}")

    async def run() -> LoopState:
        state = LoopState("test")
        task = asyncio.create_task(
            supervise(state, step, every=0.001, max_backoff=0.004, on_failure=failures.append)
        )
        while len(calls) < 6:
            await asyncio.sleep(0.001)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        return state

    with caplog.at_level(logging.WARNING, logger="privproc.loops"):
        state = asyncio.run(run())
    assert state.ok
    assert state.total_failures == 3
    assert state.last_error == "store-unavailable"
    assert failures == ["store-unavailable", "RuntimeError", "store-unavailable"]
    assert state.as_dict()["failures"] == 3
    assert "recovered after 3 failures" in caplog.text
    assert CANARY not in caplog.text  # codes only, never a message


def test_state_while_failing() -> None:
    state = LoopState("x", failures=2, total_failures=2, last_error="store")
    assert not state.ok
    assert state.as_dict() == {
        "ok": False,
        "failures_in_a_row": 2,
        "failures": 2,
        "last_error": "store",
        "last_ok": None,
    }
