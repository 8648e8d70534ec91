"""The private path in one process: device -> relay -> gateway -> nodes, wired in memory.

Every party is its real ASGI app (relay, gateway, issuer, three enclave nodes with
the embedded model, forking a child per request) and the device is the real SDK;
only the sockets are replaced by httpx transports. The apps run on one event loop
in a background thread, their lifespans started as a server would start them. The
directory serves what :class:`tests._world.World` builds from the ledger core, with
the real nodes' evidence documents; so every check of the device runs on real
parties' output, in well under a second per request, in ``make check``.

Hosts: ``relay``, ``gateway``, ``issuer``, ``directory``, ``node-1`` .. ``node-3``.
A test swaps one hop for a hostile one with :meth:`Harness.relay_to` (the relay's
gateway side goes through a function that may read, change or drop the bytes) and
:meth:`Harness.route` (the gateway's table from key id to node).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from privproc import ohttp
from privproc.client.config import ClientConfig
from privproc.client.sdk import Device
from privproc.client.tokens import IssuerTokens
from privproc.directory.bundle import LogView, build_bundle
from privproc.enclave.node import Node
from privproc.enclave.node import create_app as node_app
from privproc.enclave.platform import Hardware
from privproc.gateway.app import GatewayConfig
from privproc.gateway.app import create_app as gateway_app
from privproc.gateway.keys import ActiveKey, GatewayKeys
from privproc.gateway.routing import NodeMap
from privproc.gateway.service import challenge_for
from privproc.issuer.app import IssuerConfig, IssuerService
from privproc.issuer.app import create_app as issuer_app
from privproc.relay.app import RelayConfig
from privproc.relay.app import create_app as relay_app
from privproc.stores.spent import SqliteSpentStore
from privproc.tokens.protocol import TOKEN_TYPE_BLIND_RSA, TokenChallenge
from privproc.tokens.redeem import Redeemer
from privproc.workloads import Backend
from tests._world import GOOD, NOW, World

__all__ = ["CLIENT_ADDRESS", "Harness", "Hop"]

T = TypeVar("T")
#: The size of every read the device made of an answer's body, in order (tests of bounded
#: memory: a streamed answer must arrive in many reads, none of them the whole answer).
READS: list[int] = []

ISSUER_NAME = "issuer.test"
ORIGIN = "gateway.test"
#: The address the relay sees for the device (RFC 9458 §8.1: the gateway must not).
CLIENT_ADDRESS = ("203.0.113.7", 4711)
#: What a hop does to a request on its way: the request in, the response out.
Hop = Callable[
    [httpx.Request, Callable[[httpx.Request], Awaitable[httpx.Response]]], Awaitable[httpx.Response]
]


class _Loop:
    """An event loop in a daemon thread; coroutines are run on it from test code."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()


class _Hosts(httpx.AsyncBaseTransport):
    """Routes by host name to each party's ASGI transport; an unknown host does not connect."""

    def __init__(self) -> None:
        self.apps: dict[str, httpx.AsyncBaseTransport] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.apps.get(request.url.host)
        if transport is None:
            raise httpx.ConnectError(f"no party at {request.url.host}", request=request)
        return await transport.handle_async_request(request)


class _QueueStream(httpx.AsyncByteStream):
    """A response body handed on as the app sends it (``None`` ends it)."""

    def __init__(
        self, queue: asyncio.Queue[bytes | None], task: asyncio.Task[None], done: asyncio.Event
    ) -> None:
        self._queue, self._task, self._done = queue, task, done

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._queue.get()) is not None:
            yield chunk

    async def aclose(self) -> None:
        self._done.set()  # the app's receive() now says http.disconnect
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task


class _StreamingASGI(httpx.AsyncBaseTransport):
    """httpx's ASGITransport holds a response until the app finished it; this one hands the
    body on as the app sends it, as a socket would, so a streamed answer streams in memory."""

    def __init__(self, app: Starlette, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.app, self.client = app, client

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": "",
        }
        loop = asyncio.get_running_loop()
        started: asyncio.Future[tuple[int, list[tuple[bytes, bytes]]]] = loop.create_future()
        queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        done = asyncio.Event()
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()
            return {"type": "http.disconnect"}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                started.set_result((message["status"], list(message.get("headers", []))))
            elif message["type"] == "http.response.body":
                if message.get("body"):
                    await queue.put(message["body"])
                if not message.get("more_body", False):
                    queue.put_nowait(None)
                    done.set()

        async def run() -> None:
            try:
                await self.app(scope, receive, send)
            except Exception as exc:
                if not started.done():
                    started.set_exception(exc)
            finally:
                if not started.done():
                    started.set_result((500, []))
                queue.put_nowait(None)
                done.set()

        task = asyncio.create_task(run())
        status, headers = await started
        return httpx.Response(status, headers=headers, stream=_QueueStream(queue, task, done))


class _Buffered(httpx.AsyncByteStream):
    """A body a hop read whole, handed on as one read."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self._content


class _Hooked(httpx.AsyncBaseTransport):
    """A transport with a hop in front of it (a hostile relay side, a recorder)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.hop: Hop | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        async def onward(req: httpx.Request) -> httpx.Response:
            answer = await self.inner.handle_async_request(req)
            content = await answer.aread()
            # A stream, not ``content=``: httpx marks a content response as read, and a
            # party reading it with ``stream=True`` (the relay, a chunked answer) would
            # then get no bytes.
            return httpx.Response(
                answer.status_code, headers=answer.headers, stream=_Buffered(content)
            )

        await request.aread()
        if self.hop is None:  # a straight wire: the answer streams through
            return await self.inner.handle_async_request(request)
        return await self.hop(request, onward)


class _Blocking(httpx.BaseTransport):
    """The device's (sync) side of the in-memory network: each request runs on the loop."""

    def __init__(self, loop: _Loop, hosts: httpx.AsyncBaseTransport) -> None:
        self._loop, self._hosts = loop, hosts

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        inner = httpx.Request(request.method, request.url, headers=request.headers, content=body)
        answer = self._loop.run(self._hosts.handle_async_request(inner))
        return httpx.Response(
            answer.status_code,
            headers=answer.headers,
            stream=_SyncStream(self._loop, answer),
            request=request,
        )


class _SyncStream(httpx.SyncByteStream):
    """An answer's body pulled, read by read, from the loop: the device sees it stream."""

    def __init__(self, loop: _Loop, answer: httpx.Response) -> None:
        self._loop, self._answer = loop, answer

    def __iter__(self) -> Iterator[bytes]:
        reads = self._answer.aiter_raw()

        async def read() -> bytes:
            return await reads.__anext__()

        while True:
            try:
                chunk = self._loop.run(read())
            except StopAsyncIteration:
                return
            READS.append(len(chunk))
            yield chunk

    def close(self) -> None:
        self._loop.run(self._answer.aclose())


def _directory(documents: Callable[[], tuple[bytes, bytes]]) -> Starlette:
    """What a directory serves, built afresh on each fetch (a test may change the world)."""

    async def keys(_request: Request) -> Response:
        return Response(documents()[0], media_type=ohttp.MEDIA_TYPE_KEYS)

    async def nodes(_request: Request) -> Response:
        return Response(documents()[1], media_type="application/json")

    return Starlette(routes=[Route("/ohttp-keys", keys), Route("/nodes", nodes)])


@dataclass
class Harness:
    """Every party of the private path, in memory; ``device()`` makes a device for it."""

    root: Path
    backend: Backend
    world: World = field(default_factory=World)
    nodes: list[Node] = field(init=False)
    node_map: NodeMap = field(init=False, default_factory=NodeMap)
    issuer: IssuerService = field(init=False)
    gateway_side: _Hooked = field(init=False)
    #: The nodes the directory lists (default: all); a test may leave some out.
    listed: set[str] | None = None

    def __post_init__(self) -> None:
        self._loop = _Loop()
        self._hosts = _Hosts()
        self._stack = contextlib.AsyncExitStack()
        clock = NOW.timestamp
        self.nodes = [
            Node(
                spec.name,
                Hardware.for_node(self.world.vendor, spec.name, GOOD),
                self.backend,
                clock=clock,
            )
            for spec in self.world.nodes
        ]
        self.issuer = IssuerService(IssuerConfig(home=self.root / "issuer", quota_per_day=50))
        keys = GatewayKeys(
            lifetime=7200,
            keys=[
                ActiveKey(
                    self.world.gateway, int(NOW.timestamp()) - 60, int(NOW.timestamp()) + 3600
                )
            ],
        )
        keys.tick(int(NOW.timestamp()))
        redeemer = Redeemer(
            tuple(self.issuer.directory(time.time()).usable_keys(time.time())),
            (challenge_for(ISSUER_NAME, ORIGIN),),
            SqliteSpentStore(self.root / "spent.db"),
        )

        async def redeem(authorization: str) -> None:
            await asyncio.to_thread(redeemer.redeem_header, authorization, now=time.time())

        apps: dict[str, Starlette] = {
            spec.name: node_app(node, tick_every=3600)
            for spec, node in zip(self.world.nodes, self.nodes, strict=True)
        }
        for spec in self.world.nodes:
            self._hosts.apps[spec.name] = _StreamingASGI(apps[spec.name])
        apps["gateway"] = gateway_app(
            GatewayConfig(tuple(f"http://{s.name}" for s in self.world.nodes), poll_every=3600),
            keys,
            redeem,
            nodes=self.node_map,
            clock=clock,
            transport=self._hosts,
        )
        self._hosts.apps["gateway"] = _StreamingASGI(apps["gateway"])
        self.gateway_side = _Hooked(self._hosts)
        apps["relay"] = relay_app(
            RelayConfig("http://gateway/gateway", rate=1000, burst=1000),
            transport=self.gateway_side,
        )
        apps["issuer"] = issuer_app(self.issuer)
        apps["directory"] = _directory(self.documents)
        for name in ("relay", "issuer", "directory"):
            self._hosts.apps[name] = _StreamingASGI(apps[name], client=CLIENT_ADDRESS)
        self._loop.run(self._start(apps))

    async def _start(self, apps: dict[str, Starlette]) -> None:
        # The order a cluster starts in: nodes first, then the gateway that polls them.
        for app in apps.values():
            await self._stack.enter_async_context(app.router.lifespan_context(app))

    def documents(self) -> tuple[bytes, bytes]:
        """The directory's two documents: the world's ledger with the live nodes' evidence."""
        world = self.world
        entries = world.entries()
        log = LogView(world.checkpoint_note(entries), entries)
        served = [world.gateway.config] if world.served is None else world.served
        nodes = [
            json.loads(node.evidence_document())
            for node in self.nodes
            if self.listed is None or node.node_id in self.listed
        ]
        bundle = build_bundle(
            log, [c.encode() for c in served], nodes, world.announcements(entries)
        )
        return ohttp.encode_list(served), bundle

    def config(self, **changes: Any) -> ClientConfig:
        world = self.world
        base = ClientConfig(
            relay_url="http://relay/",
            directory_url="http://directory",
            issuer_url="http://issuer",
            account="alice",
            issuer_name=ISSUER_NAME,
            origin=ORIGIN,
            vendor_roots=(base64.b64encode(world.vendor.root_der).decode(),),
            trust_store="test",
            log_vkey=world.log.verifier().vkey(),
            witness_vkeys=tuple(w.verifier().vkey() for w in world.witnesses),
            quorum=2,
            publisher_vkey=world.publisher.verifier().vkey(),
            k=2,
        )
        return dataclasses.replace(base, **changes)

    def device(self, name: str = "alice", **changes: Any) -> Device:
        """A device with its own folder and account, on the in-memory network."""
        home = self.root / "devices" / name
        home.mkdir(parents=True, exist_ok=True)
        changes.setdefault("account", f"acct-{name}")
        config = self.config(**changes)
        network = _Blocking(self._loop, self._hosts)
        challenge = TokenChallenge(TOKEN_TYPE_BLIND_RSA, ISSUER_NAME, b"", ORIGIN)
        tokens = IssuerTokens(config.issuer_url, config.account, challenge, home, transport=network)
        return Device(config, home, tokens, now=lambda: NOW, transport=network)

    def network(self) -> httpx.Client:
        """A plain HTTP client on the in-memory network (as a prober on the internet)."""
        return httpx.Client(transport=_Blocking(self._loop, self._hosts))

    def relay_to(self, hop: Hop | None) -> None:
        """Put ``hop`` between the relay and the gateway (``None``: a straight wire)."""
        self.gateway_side.hop = hop

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._loop.run(self._stack.aclose(), timeout=10)
        self._loop.close()


@contextlib.contextmanager
def harness(root: Path, backend: Backend) -> Iterator[Harness]:
    """A started :class:`Harness`, closed on exit."""
    h = Harness(root, backend)
    try:
        yield h
    finally:
        h.close()
