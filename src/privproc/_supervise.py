"""Supervised background loops: a failing step is logged, counted and retried with
backoff, and never ends the loop; its state is what ``/healthz`` shows.

A service's periodic work (the gateway's key rotation and node polling, the
directory's refresh) runs as :func:`supervise` over one async ``step``. Any exception
but cancellation is caught: the log line and the state name only the error's code
(a :class:`~privproc.errors.PrivprocError`'s ``code``, else the exception type),
never its message, so no content reaches a log through a loop. After ``n`` failures
in a row the next try waits ``every * 2**(n-1)`` seconds, at most ``max_backoff``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from privproc.errors import PrivprocError

__all__ = ["LoopState", "backoff", "supervise"]

_log = logging.getLogger("privproc.loops")


@dataclass(slots=True)
class LoopState:
    """One loop's health: failures in a row, in all, the last error's code."""

    name: str
    failures: int = 0
    total_failures: int = 0
    last_error: str | None = None
    last_ok: float | None = None

    @property
    def ok(self) -> bool:
        """True while the last step succeeded (or none has run yet)."""
        return self.failures == 0

    def as_dict(self) -> dict[str, object]:
        """A JSON-friendly view for ``/healthz``."""
        return {
            "ok": self.ok,
            "failures_in_a_row": self.failures,
            "failures": self.total_failures,
            "last_error": self.last_error,
            "last_ok": None if self.last_ok is None else int(self.last_ok),
        }


def backoff(failures: int, every: float, max_backoff: float) -> float:
    """Seconds before the next try after ``failures`` failures in a row."""
    if failures == 0:
        return every
    return float(min(max_backoff, every * 2 ** min(failures - 1, 32)))


def _code(exc: BaseException) -> str:
    return exc.code if isinstance(exc, PrivprocError) else type(exc).__name__


async def supervise(
    state: LoopState,
    step: Callable[[], Awaitable[None]],
    *,
    every: float,
    max_backoff: float = 60.0,
    on_failure: Callable[[str], None] = lambda _code: None,
    first_delay: float | None = None,
) -> None:
    """Run ``step`` forever, ``every`` seconds apart, backing off while it fails.

    ``on_failure(code)`` is called on each failure (a metric); ``first_delay``: wait
    before the first step (default ``every``).
    """
    await asyncio.sleep(every if first_delay is None else first_delay)
    while True:
        try:
            await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a loop survives every failure of a step
            state.failures += 1
            state.total_failures += 1
            state.last_error = _code(exc)
            on_failure(state.last_error)
            delay = backoff(state.failures, every, max_backoff)
            _log.warning(
                "%s loop failed (%d in a row): %s; retrying in %.1fs",
                state.name,
                state.failures,
                state.last_error,
                delay,
            )
        else:
            if state.failures:
                _log.warning("%s loop recovered after %d failures", state.name, state.failures)
            state.failures = 0
            state.last_ok = time.time()
        await asyncio.sleep(backoff(state.failures, every, max_backoff))
