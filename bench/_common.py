"""Shared helpers for the benchmarks: timing and the result row.

Every figure is reported next to a baseline measured in the same run, as a ratio,
so results compare across machines. Nothing here asserts a time.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Row:
    """One benchmark figure next to its same-run baseline."""

    bench: str
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    #: value / baseline for rates (ops/s); for latencies (s) the reader sees the same ratio.
    ratio: float
    note: str = ""

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def rate(fn: Callable[[], object], *, min_time: float = 0.5, min_iters: int = 3) -> float:
    """Operations per second of ``fn``, run for at least ``min_time`` seconds."""
    fn()  # warm
    n = 0
    start = time.perf_counter()
    while True:
        fn()
        n += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_time and n >= min_iters:
            return n / elapsed


def row(
    bench: str,
    name: str,
    value: float,
    unit: str,
    baseline_name: str,
    baseline: float,
    note: str = "",
) -> Row:
    """Make a row; the ratio is value / baseline."""
    return Row(
        bench,
        name,
        value,
        unit,
        baseline_name,
        baseline,
        value / baseline if baseline else 0.0,
        note,
    )


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    return {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "processor": platform.processor(),
    }
