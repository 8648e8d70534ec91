from __future__ import annotations

import asyncio
import os
import time

import pytest

from privproc.enclave.worker import ChildFailedError, ForkRunner
from privproc.errors import OpenError

_PARENT_STATE = {"secret": b""}


def _pid(data: bytes) -> bytes:
    _PARENT_STATE["secret"] = data  # lives and dies in the child
    return f"{os.getpid()}:{data.decode()}".encode()


def _refuse(_data: bytes) -> bytes:
    raise OpenError


def _crash(_data: bytes) -> bytes:
    os._exit(3)


def _boom(_data: bytes) -> bytes:
    raise RuntimeError("CANARY")


def _hang(_data: bytes) -> bytes:
    time.sleep(30)
    return b""


def test_each_request_runs_in_a_fresh_child() -> None:
    async def main() -> list[bytes]:
        runner = ForkRunner(timeout=10)
        return list(await asyncio.gather(*(runner.run(_pid, b"r%d" % i) for i in range(3))))

    answers = asyncio.run(main())
    pids = {a.split(b":")[0] for a in answers}
    assert len(pids) == 3
    assert str(os.getpid()).encode() not in pids
    assert sorted(a.split(b":")[1] for a in answers) == [b"r0", b"r1", b"r2"]
    assert _PARENT_STATE["secret"] == b""  # the parent never saw the request


@pytest.mark.parametrize(
    ("handler", "reason", "status"),
    [(_refuse, "open-failed", 400), (_crash, "crashed", 500), (_boom, "internal", 500)],
)
def test_failures_are_codes(handler: object, reason: str, status: int) -> None:
    runner_holder: list[ForkRunner] = []

    async def main() -> bytes:
        runner_holder.append(ForkRunner(timeout=10))
        return await runner_holder[0].run(handler, b"x")  # type: ignore[arg-type]

    with pytest.raises(ChildFailedError) as info:
        asyncio.run(main())
    assert info.value.reason == reason
    assert info.value.http_status == status
    assert "CANARY" not in str(info.value)


def test_timeout_kills_the_child() -> None:
    async def main() -> bytes:
        return await ForkRunner(timeout=0.3).run(_hang, b"x")

    with pytest.raises(ChildFailedError) as info:
        asyncio.run(main())
    assert info.value.reason == "timeout"
