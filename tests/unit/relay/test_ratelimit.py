from __future__ import annotations

import pytest

from privproc.errors import MisuseError
from privproc.relay.ratelimit import RateLimiter


def test_burst_then_refuse_then_refill() -> None:
    limiter = RateLimiter(rate=2.0, burst=3)
    assert [limiter.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("a", 0.5)  # one token back after 0.5 s at 2/s
    assert not limiter.allow("a", 0.5)


def test_addresses_are_independent() -> None:
    limiter = RateLimiter(rate=1.0, burst=1)
    assert limiter.allow("a", 0.0)
    assert not limiter.allow("a", 0.0)
    assert limiter.allow("b", 0.0)


def test_table_is_bounded() -> None:
    limiter = RateLimiter(rate=1.0, burst=1, max_clients=2)
    for name in ("a", "b", "c"):
        limiter.allow(name, 0.0)
    assert len(limiter) == 2


def test_refill_caps_at_burst() -> None:
    limiter = RateLimiter(rate=100.0, burst=2)
    limiter.allow("a", 0.0)
    assert [limiter.allow("a", 1000.0) for _ in range(3)] == [True, True, False]


@pytest.mark.parametrize(("rate", "burst"), [(0.0, 1), (1.0, 0)])
def test_bad_settings(rate: float, burst: int) -> None:
    with pytest.raises(MisuseError):
        RateLimiter(rate, burst)
