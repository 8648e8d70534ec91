"""One fresh process per request, forked from the warm parent (DESIGN.md step 8).

The parent has the model loaded and the keys in memory; for each request it
forks a child (``multiprocessing`` 'fork' context) that inherits both, runs the
handler on the sealed bytes, sends back the sealed answer through a pipe and
exits. Whatever the request put in memory dies with the child; the parent never
holds the plaintext. A child that fails or runs over its time is killed and the
request fails with a content-free error code.

The parent waits on the pipe and the child's sentinel through the event loop
(``add_reader``), so no helper thread exists at fork time.

:class:`ForkRunner` forks at the request. The node itself forks each request's
child ahead of it (:mod:`.prefork`, same guarantee and error codes, the fork and the
reap off the request's path); ``ForkRunner`` stays the general runner and the
benchmark's baseline for that change.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection

from privproc.errors import ChildFailedError, PrivprocError

__all__ = ["ChildFailedError", "ForkRunner", "Handler"]

#: A request handler run in the child: sealed request in, sealed response out.
Handler = Callable[[bytes], bytes]

_OK = 0
_REFUSED = 1


def _child(handler: Handler, data: bytes, conn: Connection) -> None:
    try:
        out = handler(data)
    except PrivprocError as exc:
        conn.send((_REFUSED, exc.code, exc.http_status))
    except BaseException:  # noqa: BLE001 - the child reports a code, never text
        conn.send((_REFUSED, "internal", 500))
    else:
        conn.send((_OK, out, 200))
    finally:
        conn.close()
        os._exit(0)


class ForkRunner:
    """Runs each request in a fresh forked child, at most ``max_children`` at once."""

    __slots__ = ("_ctx", "_sem", "_timeout")

    def __init__(self, *, timeout: float = 60.0, max_children: int = 8) -> None:
        self._ctx = multiprocessing.get_context("fork")
        self._timeout = timeout
        self._sem = asyncio.Semaphore(max_children)

    async def run(self, handler: Handler, data: bytes) -> bytes:
        """Fork, run ``handler(data)`` in the child, return its bytes or raise."""
        async with self._sem:
            return await self._run(handler, data)

    async def _run(self, handler: Handler, data: bytes) -> bytes:
        loop = asyncio.get_running_loop()
        receiver, sender = self._ctx.Pipe(duplex=False)
        process = self._ctx.Process(target=_child, args=(handler, data, sender), daemon=True)
        process.start()
        sender.close()
        ready: asyncio.Future[None] = loop.create_future()

        def _wake() -> None:
            if not ready.done():
                ready.set_result(None)

        loop.add_reader(receiver.fileno(), _wake)
        loop.add_reader(process.sentinel, _wake)
        try:
            await asyncio.wait_for(ready, self._timeout)
            if not receiver.poll():
                raise ChildFailedError("crashed")
            status, value, http_status = receiver.recv()
        except TimeoutError:
            raise ChildFailedError("timeout") from None
        except EOFError:
            raise ChildFailedError("crashed") from None
        finally:
            loop.remove_reader(receiver.fileno())
            loop.remove_reader(process.sentinel)
            receiver.close()
            if not ready.done():
                ready.cancel()
                process.kill()
            process.join(2.0)
            if process.is_alive():
                process.kill()
                process.join(1.0)
            process.close()
        if status != _OK:
            raise ChildFailedError(str(value), int(http_status))
        return bytes(value)
