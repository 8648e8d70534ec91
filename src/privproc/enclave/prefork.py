"""Request children forked ahead of their request, one node key each (issue 18 item 1).

The warm parent forks each request's child *before* the request arrives; the child
prepares (drops every node key but the one its pool serves, replaces every socket it
inherited with ``/dev/null``, resets signals, turns the cyclic GC off), says it is
ready, then waits on its own socket pair. It serves exactly one request (sealed bytes
in, sealed answer out) and exits; the pool forks the next child off the request's
path. The guarantee of :mod:`.worker` holds: one fresh process per request, nothing
of a request outlives it. The lifecycle of a child, and which children a key's state
allows, are the tables :data:`~privproc.enclave.keys.CHILD_TRANSITIONS` and
:data:`~privproc.enclave.keys.POOL_TARGET`.

Frames on a child's socket pair (AF_UNIX stream, never leaves the node)::

    child -> parent   b"R"                                ready (prepared)
    parent -> child   u32 length || sealed request
    child -> parent   0x00 || sealed answer                then EOF
                      0x01 || u16 HTTP status || code      a content-free refusal, EOF
                      0x02 || sealed stream ...            a streamed answer: the frames
                                                           of privproc.sealed's SealedStream
                                                           as they are sealed, then EOF

A streamed answer (docs/streaming.md) passes through the parent as it comes: the parent
holds one socket read (64 KiB at most) at a time, never the answer. A child that dies
mid-stream ends the stream before its final frame, which the device refuses as truncated.

A child that closes without a whole answer crashed; one that runs over its time is
killed. Both fail the request with :class:`~privproc.errors.ChildFailedError`.
The parent never blocks: it talks to children through the running event loop, and
reaps exited children with ``waitpid(WNOHANG)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import select
import signal
import socket
import stat
import struct
import weakref
from collections.abc import Callable, Iterator

from privproc.enclave.keys import CHILD_TRANSITIONS, ChildState
from privproc.errors import ChildFailedError, MisuseError, PrivprocError

__all__ = ["ChildStream", "PreforkPool", "Prepare", "StreamHandler"]

#: A request handler run in the child: sealed request in, the sealed answer out whole
#: (``bytes``) or as the pieces of a sealed stream (an iterator of ``bytes``).
StreamHandler = Callable[[bytes], bytes | Iterator[bytes]]
#: Runs in the child right after the fork; returns the one-request handler.
Prepare = Callable[[], StreamHandler]

_READY = b"R"
_OK, _REFUSED, _STREAM = 0, 1, 2
_READ = 1 << 16
_LEN = struct.Struct(">I")
_STATUS = struct.Struct(">H")


class _Child:
    __slots__ = ("pid", "sock", "state")

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid, self.sock, self.state = pid, sock, ChildState.FORKED

    def step(self, event: str) -> None:
        nxt = CHILD_TRANSITIONS.get((self.state, event))
        if nxt is None:
            raise MisuseError(f"request child: no '{event}' from {self.state.value}")
        self.state = nxt


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return bytes(buf)


def _drop_inherited_sockets(keep: int) -> None:
    """Point every inherited socket fd (the parent's listener, its connections, the
    event loop's self-pipe, other children's pairs) at ``/dev/null``: the child holds
    no copy that would keep a parent's connection open or reach a peer."""
    null = os.open(os.devnull, os.O_RDWR)
    try:
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd in (keep, null):
                continue
            with contextlib.suppress(OSError):
                if stat.S_ISSOCK(os.fstat(fd).st_mode):
                    os.dup2(null, fd)
    finally:
        os.close(null)


def _child_main(prepare: Prepare, sock: socket.socket) -> None:
    """The child: prepare, say ready, serve one request, exit. Never returns."""
    try:
        gc.disable()  # no collection walking (and copying) the parent's heap
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        _drop_inherited_sockets(sock.fileno())
        handler = prepare()
        sock.sendall(_READY)
        try:
            (length,) = _LEN.unpack(_recv_exact(sock, _LEN.size))
            data = _recv_exact(sock, length)
        except EOFError:
            return  # the pool closed: exit without serving
        try:
            result = handler(data)
            answer = b"\x00" + result if isinstance(result, bytes) else None
        except PrivprocError as exc:
            code = exc.code.encode("ascii", "replace")[:255]
            answer = b"\x01" + _STATUS.pack(exc.http_status) + code
        except BaseException:  # noqa: BLE001 - the child reports a code, never text
            answer = b"\x01" + _STATUS.pack(500) + b"internal"
        if answer is not None:
            sock.sendall(answer)
        else:
            assert not isinstance(result, bytes)
            sock.sendall(bytes([_STREAM]))
            # A failure mid-stream just stops it: no final frame, the device sees truncation.
            with contextlib.suppress(BaseException):
                for piece in result:
                    sock.sendall(piece)
        sock.close()
    finally:
        os._exit(0)


def _kill_all(children: dict[int, _Child], zombies: set[int]) -> None:
    for child in children.values():
        with contextlib.suppress(OSError):
            os.kill(child.pid, signal.SIGKILL)
        child.sock.close()
        zombies.add(child.pid)
    children.clear()
    for pid in list(zombies):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        zombies.discard(pid)


class PreforkPool:
    """Children forked ahead of requests for one node key; each serves one request.

    ``prepare`` runs in each child right after its fork (drop the keys the child does
    not need) and returns the handler. ``target`` idle children are kept forked
    (:meth:`refill`); when none is idle a request forks its own, so a request never
    waits for the pool. :meth:`set_target` ``(0)`` kills the idle ones (the key
    retired); :meth:`close` kills every child, serving ones too (the key is destroyed).
    """

    __slots__ = (
        "__weakref__",
        "_children",
        "_closed",
        "_prepare",
        "_target",
        "_timeout",
        "_zombies",
    )

    def __init__(self, prepare: Prepare, *, target: int, timeout: float = 60.0) -> None:
        if target < 0 or timeout <= 0:
            raise MisuseError("prefork pool: target must be >= 0 and timeout positive")
        self._prepare = prepare
        self._target = target
        self._timeout = timeout
        self._children: dict[int, _Child] = {}
        self._zombies: set[int] = set()
        self._closed = False
        weakref.finalize(self, _kill_all, self._children, self._zombies)

    # --- forking and reaping (synchronous: a fork takes no await) --------------------

    def _fork(self) -> _Child:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child (coverage does not follow it)
            parent_end.close()
            _child_main(self._prepare, child_end)
        child_end.close()
        parent_end.setblocking(False)
        child = _Child(pid, parent_end)
        self._children[pid] = child
        return child

    def _idle(self) -> list[_Child]:
        return [
            c for c in self._children.values() if c.state in (ChildState.FORKED, ChildState.READY)
        ]

    def refill(self) -> None:
        """Reap exited children; fork until ``target`` children are idle."""
        self.reap()
        if self._closed:
            return
        for _ in range(self._target - len(self._idle())):
            self._fork()

    def reap(self) -> None:
        """Collect the exit status of children that are gone (never blocks)."""
        for pid in list(self._zombies):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self._zombies.discard(pid)

    def _end(self, child: _Child, event: str, *, kill: bool) -> None:
        if child.state not in (ChildState.EXITED, ChildState.KILLED):
            serving = child.state is ChildState.SERVING
            child.step(event)
            if kill:
                with contextlib.suppress(OSError):
                    os.kill(child.pid, signal.SIGKILL)
            self._children.pop(child.pid, None)
            self._zombies.add(child.pid)
            if serving and event == "destroy":
                return  # its request reads EOF, fails as "crashed" and closes the socket
        child.sock.close()

    def set_target(self, target: int) -> None:
        """Keep ``target`` idle children; fewer kills the surplus idle ones now."""
        if target < 0:
            raise MisuseError("prefork pool: target must be >= 0")
        self._target = target
        for child in self._idle()[target:]:
            self._end(child, "retire", kill=True)
        self.refill()

    def close(self) -> None:
        """Kill every child of this pool (idle and serving) and reap them."""
        self._closed = True
        for child in list(self._children.values()):
            self._end(child, "destroy", kill=True)
        for pid in list(self._zombies):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
            self._zombies.discard(pid)

    # --- introspection (tests, /healthz-style checks) ---------------------------------

    def pids(self) -> list[int]:
        """Process ids of every live child of this pool (idle or serving)."""
        return list(self._children)

    def wait_ready(self, timeout: float = 10.0) -> list[int]:
        """Block until every idle child said ready (dropped what it must not hold);
        their pids. For tests and start-up checks, not the request path."""
        for child in self._idle():
            if child.state is ChildState.FORKED:
                ready, _, _ = select.select([child.sock], [], [], timeout)
                if not ready or child.sock.recv(1) != _READY:
                    self._end(child, "fail", kill=True)
                    continue
                child.step("ready")
        return [c.pid for c in self._idle()]

    # --- one request ---------------------------------------------------------------

    async def run(self, data: bytes) -> bytes:
        """Serve ``data`` in an idle child (or a freshly forked one); its whole answer (a
        streamed one joined) or raise."""
        answer = await self.serve(data)
        if isinstance(answer, bytes):
            return answer
        return b"".join([piece async for piece in answer])

    async def serve(
        self, data: bytes, *, on_end: Callable[[], None] = lambda: None
    ) -> bytes | ChildStream:
        """Serve ``data`` in an idle child: its whole answer, or, when the child streams,
        an iterator of the stream's bytes as the child writes them; or raise.
        ``on_end`` runs once the child is done with (a stream's end included)."""
        try:
            answer = await self._serve(data, on_end)
        except BaseException:
            on_end()
            raise
        if isinstance(answer, bytes):
            on_end()
        return answer

    async def _serve(self, data: bytes, on_end: Callable[[], None]) -> bytes | ChildStream:
        if self._closed:
            raise ChildFailedError("crashed")
        idle = self._idle()
        child = idle[0] if idle else self._fork()
        unready = child.state is ChildState.FORKED
        child.step("take")
        deadline = asyncio.get_running_loop().time() + self._timeout
        try:
            answer = await asyncio.wait_for(self._exchange(child, data, unready), self._timeout)
            if answer[:1] == bytes([_STREAM]):
                return ChildStream(self, child, answer[1:], deadline, on_end)
            left = max(0.001, deadline - asyncio.get_running_loop().time())
            answer += await asyncio.wait_for(self._rest(child), left)
        except TimeoutError:
            self._end(child, "fail", kill=True)
            raise ChildFailedError("timeout") from None
        except (EOFError, OSError):
            self._end(child, "fail", kill=True)
            raise ChildFailedError("crashed") from None
        except BaseException:
            self._end(child, "fail", kill=True)
            raise
        self._end(child, "answer", kill=False)
        # The next child forks once this task yields: after the answer is on its way.
        asyncio.get_running_loop().call_soon(self.refill)
        if answer[:1] == b"\x00":
            return answer[1:]
        if answer[:1] == b"\x01" and len(answer) > 1 + _STATUS.size:
            (status,) = _STATUS.unpack_from(answer, 1)
            raise ChildFailedError(answer[1 + _STATUS.size :].decode("ascii", "replace"), status)
        raise ChildFailedError("crashed")

    async def _exchange(self, child: _Child, data: bytes, unready: bool) -> bytes:
        loop = asyncio.get_running_loop()
        if unready and await loop.sock_recv(child.sock, 1) != _READY:
            raise EOFError
        await loop.sock_sendall(child.sock, _LEN.pack(len(data)) + data)
        first = await loop.sock_recv(child.sock, _READ)
        if not first:
            raise EOFError
        return first

    async def _rest(self, child: _Child) -> bytes:
        loop = asyncio.get_running_loop()
        chunks = []
        while chunk := await loop.sock_recv(child.sock, _READ):
            chunks.append(chunk)
        return b"".join(chunks)


class _StreamEnd:
    """Ends a streaming child exactly once: when its stream ends, is closed, or (never
    read to the end nor closed) is garbage-collected; then calls ``on_end``."""

    __slots__ = ("child", "on_end", "open", "pool")

    def __init__(self, pool: PreforkPool, child: _Child, on_end: Callable[[], None]) -> None:
        self.pool, self.child, self.on_end, self.open = pool, child, on_end, True

    def __call__(self, ok: bool) -> None:
        if not self.open:
            return
        self.open = False
        try:
            if ok:
                self.pool._end(self.child, "answer", kill=False)
                try:
                    asyncio.get_running_loop().call_soon(self.pool.refill)
                except RuntimeError:  # collected outside the loop
                    self.pool.refill()
            else:
                self.pool._end(self.child, "fail", kill=True)
        finally:
            self.on_end()


class ChildStream:
    """A streaming child's bytes, read as the child writes them (one read held at a time).

    Iterate it; it ends at the child's EOF (the child exited). :meth:`aclose` before
    that (the reader went away), or dropping it unread, kills the child; so does running
    past the pool's timeout, which raises :class:`ChildFailedError` ``timeout``.
    """

    __slots__ = ("__weakref__", "_child", "_deadline", "_end", "_first")

    def __init__(
        self,
        pool: PreforkPool,
        child: _Child,
        first: bytes,
        deadline: float,
        on_end: Callable[[], None],
    ) -> None:
        self._child, self._first, self._deadline = child, first, deadline
        self._end = _StreamEnd(pool, child, on_end)
        weakref.finalize(self, self._end, False)

    def __aiter__(self) -> ChildStream:
        return self

    async def __anext__(self) -> bytes:
        if not self._end.open:
            raise StopAsyncIteration
        if self._first:
            first, self._first = self._first, b""
            return first
        loop = asyncio.get_running_loop()
        left = max(0.0, self._deadline - loop.time())
        try:
            chunk = await asyncio.wait_for(loop.sock_recv(self._child.sock, _READ), left)
        except TimeoutError:
            self._end(False)
            raise ChildFailedError("timeout") from None
        except OSError:
            self._end(False)
            raise ChildFailedError("crashed") from None
        except BaseException:
            self._end(False)
            raise
        if not chunk:
            self._end(True)
            raise StopAsyncIteration
        return chunk

    async def aclose(self) -> None:
        """Stop reading: the child, if still writing, is killed."""
        self._end(False)
