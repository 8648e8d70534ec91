"""Issue 18 item 1: request children forked ahead of their request.

Each child serves exactly one request and is gone; it holds only the node key its pool
serves (scanned in the child's own memory); it keeps no inherited socket; rotation
replaces the idle children and destruction kills every child holding the key.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from privproc.attestation.simulated import SimulatedVendor
from privproc.enclave.keys import CHILD_TRANSITIONS, ChildState, KeyState
from privproc.enclave.node import Node
from privproc.enclave.platform import VENDOR_EPOCH, Hardware
from privproc.enclave.prefork import PreforkPool
from privproc.enclave.worker import Handler
from privproc.errors import ChildFailedError, MisuseError, OpenError
from privproc.sealed import seal_request

MEASUREMENT = bytes(range(48))
REWRITE = json.dumps(
    {"feature": "rewrite", "draft": "can u come", "tones": ["friendly"], "language": "en"}
).encode()
_CHUNK = 1 << 20
_PREPARED = {"in": 0}


def _pid_handler() -> Handler:
    _PREPARED["in"] = os.getpid()  # set in the child only

    def handle(data: bytes) -> bytes:
        return f"{os.getpid()}:{_PREPARED['in']}:{data.decode()}".encode()

    return handle


def _gone(pid: int) -> bool:
    """True once ``pid`` exited (a zombie or reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


def _wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.01)
    return False


def test_each_request_runs_in_its_own_child_which_then_exits() -> None:
    pool = PreforkPool(_pid_handler, target=2, timeout=10)
    pool.refill()
    try:
        forked_ahead = set(pool.wait_ready())
        assert len(forked_ahead) == 2

        async def main() -> list[bytes]:
            out = [await pool.run(b"s%d" % i) for i in range(4)]
            out += await asyncio.gather(*(pool.run(b"c%d" % i) for i in range(4)))
            return out

        answers = asyncio.run(main())
        pids = [int(a.split(b":")[0]) for a in answers]
        assert len(set(pids)) == len(answers) == 8  # never a child serving two requests
        assert os.getpid() not in pids
        # prepare ran in the child that served, before its request
        assert all(a.split(b":")[0] == a.split(b":")[1] for a in answers)
        assert forked_ahead <= set(pids)  # the idle children were the ones used
        for pid in pids:
            assert pid not in pool.pids()
            assert _wait_gone(pid), f"child {pid} still alive after its one request"
        assert sorted(a.split(b":")[2] for a in answers) == sorted(
            [b"s%d" % i for i in range(4)] + [b"c%d" % i for i in range(4)]
        )
    finally:
        pool.close()
    assert pool.pids() == []


def _refuse() -> Handler:
    def handle(_data: bytes) -> bytes:
        raise OpenError

    return handle


def _crash() -> Handler:
    def handle(_data: bytes) -> bytes:
        os._exit(3)

    return handle


def _boom() -> Handler:
    def handle(_data: bytes) -> bytes:
        raise RuntimeError("CANARY")

    return handle


def _hang() -> Handler:
    def handle(_data: bytes) -> bytes:
        time.sleep(30)
        return b""

    return handle


@pytest.mark.parametrize(
    ("prepare", "reason", "status"),
    [(_refuse, "open-failed", 400), (_crash, "crashed", 500), (_boom, "internal", 500)],
)
def test_failures_are_codes(prepare: Any, reason: str, status: int) -> None:
    pool = PreforkPool(prepare, target=1, timeout=10)
    pool.refill()
    try:
        with pytest.raises(ChildFailedError) as info:
            asyncio.run(pool.run(b"x"))
    finally:
        pool.close()
    assert info.value.reason == reason
    assert info.value.http_status == status
    assert "CANARY" not in str(info.value)


def test_timeout_kills_the_child() -> None:
    pool = PreforkPool(_hang, target=1, timeout=0.3)
    pool.refill()
    [pid] = pool.wait_ready()
    try:
        with pytest.raises(ChildFailedError) as info:
            asyncio.run(pool.run(b"x"))
        assert info.value.reason == "timeout"
        assert _wait_gone(pid)
    finally:
        pool.close()


def test_closing_the_pool_kills_a_serving_child() -> None:
    pool = PreforkPool(_hang, target=1, timeout=30)
    pool.refill()
    [pid] = pool.wait_ready()

    async def main() -> None:
        task = asyncio.create_task(pool.run(b"x"))
        await asyncio.sleep(0.2)
        assert pool.pids() == [pid]  # serving
        pool.close()  # what the node does when the child's key is destroyed
        with pytest.raises(ChildFailedError) as info:
            await task
        assert info.value.reason == "crashed"

    asyncio.run(main())
    assert _wait_gone(pid)
    with pytest.raises(ChildFailedError):
        asyncio.run(pool.run(b"x"))  # a closed pool forks nothing


def test_a_child_keeps_no_inherited_socket() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        pool = PreforkPool(_pid_handler, target=1, timeout=10)
        pool.refill()
        try:
            [pid] = pool.wait_ready()
            fds = {
                int(n): os.readlink(f"/proc/{pid}/fd/{n}") for n in os.listdir(f"/proc/{pid}/fd")
            }
            sockets = [fd for fd, target in fds.items() if target.startswith("socket:")]
            assert len(sockets) == 1  # its own pair to the parent, nothing else
            assert fds[listener.fileno()] == os.devnull
        finally:
            pool.close()


def test_child_transitions_serve_once() -> None:
    assert CHILD_TRANSITIONS[(ChildState.READY, "take")] is ChildState.SERVING
    leaving_serving = {
        nxt for (st, _), nxt in CHILD_TRANSITIONS.items() if st is ChildState.SERVING
    }
    assert leaving_serving == {ChildState.EXITED, ChildState.KILLED}
    assert not any(st in (ChildState.EXITED, ChildState.KILLED) for st, _ in CHILD_TRANSITIONS)
    assert not any(
        nxt in (ChildState.FORKED, ChildState.READY)
        for (st, _), nxt in CHILD_TRANSITIONS.items()
        if st is not ChildState.FORKED
    )
    with pytest.raises(MisuseError):
        PreforkPool(_pid_handler, target=-1)


# --- the node's pools -------------------------------------------------------------------


def _node(now: list[float]) -> Node:
    vendor = SimulatedVendor.from_seed(b"n" * 32, not_before=VENDOR_EPOCH)
    hw = Hardware.for_node(vendor, "node-x", MEASUREMENT)
    backend: Any = None  # the rewrite feature runs on rules without a model
    return Node(
        "node-x", hw, backend, key_lifetime=10, key_grace=5, prefork=2, clock=lambda: now[0]
    )


def _alive(pid: int) -> bool:
    return not _gone(pid)


def test_rotation_replaces_the_children_and_destruction_kills_them() -> None:
    now = [1_800_000_000.0]
    node = _node(now)
    try:
        old_id = node.ring.current().key_id
        old_public = base64.b64decode(json.loads(node.evidence_document())["public_key"])
        before = node.pools[old_id].wait_ready()
        assert len(before) == 2

        now[0] += 10
        node.tick()  # rotation: old key retiring, its idle children killed
        new_id = node.ring.current().key_id
        assert all(_wait_gone(pid) for pid in before)
        assert node.pools[old_id].pids() == []
        after = node.pools[new_id].wait_ready()
        assert len(after) == 2
        assert not set(after) & set(before)

        # A request under the new key is served by a child forked after the rotation.
        new_public = node.ring.current().public_key
        sealed, secret = seal_request(REWRITE, [new_public])
        secret.open_response(asyncio.run(node.process(sealed)))
        served = set(after) - set(node.pools[new_id].pids())
        assert len(served) == 1
        assert not served & set(before)

        # A request under the retiring key forks its own child, holding only that key.
        sealed, secret = seal_request(REWRITE, [old_public])
        secret.open_response(asyncio.run(node.process(sealed)))

        # A child still holding the old key when it is destroyed is killed with it.
        pool = node.pools[old_id]
        pool.set_target(1)
        [pid] = pool.wait_ready()
        assert pid not in before
        now[0] += 5
        node.tick()  # destroys the old key
        assert {v.key_id: v.state for v in node.ring.views()}[old_id] is KeyState.DESTROYED
        assert old_id not in node.pools
        assert _wait_gone(pid)
    finally:
        node.close()
    assert node.pools == {}
    assert all(_wait_gone(pid) for pid in after)


def _private_bytes(node: Node, key_id: bytes) -> bytearray:
    """The key's raw private bytes, exported in a forked child, never a ``bytes`` here."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(w, node.ring.private_key(key_id).private_bytes_raw())  # type: ignore[union-attr]
        finally:
            os._exit(0)
    os.close(w)
    needle = bytearray(32)
    try:
        assert os.readv(r, [needle]) == len(needle)
    finally:
        os.close(r)
        os.waitpid(pid, 0)
    return needle


def _found_in(pid: int, needle: bytearray) -> bool:
    """Whether ``needle`` is anywhere in the readable memory of process ``pid``."""
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    with open(f"/proc/{pid}/maps", encoding="ascii") as maps:
        regions = maps.read().splitlines()
    fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
    try:
        for line in regions:
            fields = line.split()
            if fields[1][0] != "r" or fields[-1] in ("[vvar]", "[vsyscall]"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            pos = start
            while pos < end:
                try:
                    got = os.preadv(fd, [view[: min(_CHUNK, end - pos)]], pos)
                except OSError:
                    break
                if got <= 0:
                    break
                if buf.find(needle, 0, got) != -1:
                    return True
                pos += got if pos + got >= end else got - (len(needle) - 1)
    finally:
        os.close(fd)
        view.release()
    return False


def _child_mem_readable() -> bool:
    pool = PreforkPool(_pid_handler, target=1, timeout=5)
    pool.refill()
    try:
        [pid] = pool.wait_ready()
        fd = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
        os.close(fd)
        return True
    except OSError:
        return False
    finally:
        pool.close()


@pytest.mark.skipif(not _child_mem_readable(), reason="a child's /proc/<pid>/mem is not readable")
def test_a_child_holds_only_its_own_key() -> None:
    now = [1_800_000_000.0]
    node = _node(now)
    try:
        old_id = node.ring.current().key_id
        now[0] += 10
        node.tick()  # two usable keys in the parent: the new one and the retiring one
        new_id = node.ring.current().key_id
        old_key, new_key = _private_bytes(node, old_id), _private_bytes(node, new_id)
        [child, _] = node.pools[new_id].wait_ready()
        assert _found_in(child, new_key), "control: the child holds its own key"
        assert not _found_in(child, old_key), "a child holds a key it does not serve"
    finally:
        node.close()


def _streaming_handler() -> Any:
    def handle(data: bytes) -> Any:
        def pieces() -> Any:
            yield f"{os.getpid()}:".encode()
            for _ in range(int(data)):
                yield b"x" * 1000
            if data == b"0":
                os._exit(3)  # dies mid-stream

        return pieces()

    return handle


def test_a_streaming_child_passes_its_pieces_and_exits() -> None:
    async def go() -> tuple[bytes, list[int]]:
        pool = PreforkPool(_streaming_handler, target=1)
        try:
            answer = await pool.serve(b"300")
            assert not isinstance(answer, bytes)
            reads = [piece async for piece in answer]
            return b"".join(reads), [len(r) for r in reads]
        finally:
            pool.close()

    out, reads = asyncio.run(go())
    pid, _, rest = out.partition(b":")
    assert rest == b"x" * 300_000
    assert max(reads) <= 1 << 16  # the parent holds one read at a time, never the answer
    assert _wait_gone(int(pid))


def test_a_stream_read_no_further_kills_its_child_and_frees_its_slot() -> None:
    ended: list[int] = []

    async def go() -> int:
        pool = PreforkPool(_streaming_handler, target=1)
        try:
            answer = await pool.serve(b"100000", on_end=lambda: ended.append(1))
            assert not isinstance(answer, bytes)
            first = await answer.__anext__()
            await answer.aclose()
            return int(first.partition(b":")[0])
        finally:
            pool.close()

    pid = asyncio.run(go())
    assert ended == [1]
    assert _wait_gone(pid)


def test_a_child_dying_mid_stream_just_ends_the_stream() -> None:
    """No error text, no final frame: the sealed layer makes it a truncated answer."""

    async def go() -> bytes:
        pool = PreforkPool(_streaming_handler, target=1)
        try:
            answer = await pool.serve(b"0")
            assert not isinstance(answer, bytes)
            return b"".join([piece async for piece in answer])
        finally:
            pool.close()

    assert asyncio.run(go()).endswith(b":")
