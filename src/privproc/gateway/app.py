"""The gateway's ASGI app (RFC 9458 §6.2 gateway; DESIGN.md step 7).

``POST /gateway``   message/ohttp-req -> message/ohttp-res (errors inside are sealed too);
                    message/ohttp-chunked-req -> message/ohttp-chunked-res
                    (draft-ietf-ohai-chunked-ohttp-08): a streamed answer passes through
                    chunk by chunk (docs/streaming.md)
``GET /ohttp-keys`` application/ohttp-keys, the active configs (RFC 9458 §3.2)
``GET /metrics``    content-free Prometheus metrics
``GET /healthz``    200 while serving; JSON ``{"status": "ok"|"degraded", "loops": ...}``

Background work (key rotation, which records new keys in the ledger, and node
polling) runs in supervised loops (:mod:`privproc._supervise`): a failure (the
ledger down) is logged by code, counted in ``privproc_gateway_loop_failures_total``,
shown in ``/healthz`` and retried with backoff; blocking calls run in threads.

Inside the OHTTP request is a binary HTTP request (RFC 9292) ``POST /process``
with ``Authorization: PrivateToken token=...`` (RFC 9577 §2.2) and the sealed
request as content. The gateway redeems the token once, then forwards the sealed
bytes to one of the K nodes the sealed request names, retrying the others on
failure, and seals the node's answer into the OHTTP response. A stale key id
gets a 400 problem of type ``ohttp-key`` (RFC 9458 §5.3) so the client refetches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from privproc import bhttp, ohttp, ohttp_chunked
from privproc._hop import HopTransport
from privproc._http import PROBLEM_JSON, error_boundary, read_body
from privproc._supervise import LoopState, supervise
from privproc.errors import (
    DecodeError,
    MediaTypeError,
    NodeRefusedError,
    PeerError,
    PrivprocError,
    RemoteError,
    UnknownKeyError,
)
from privproc.gateway.keys import KeySource
from privproc.gateway.metrics import GatewayMetrics
from privproc.gateway.routing import NodeMap
from privproc.limits import (
    GATEWAY_MAX_REQUEST,
    MAX_SEALED_RESPONSE,
    MAX_SEALED_STREAM,
    SEALED_STREAM_HEADER,
    STREAM_FRAME,
)
from privproc.problem import encode_problem
from privproc.sealed import parse_header

__all__ = ["SEALED_MEDIA", "GatewayConfig", "Redeemer", "create_app", "problem_bhttp"]

SEALED_MEDIA = "application/privproc-sealed"
#: A node's streamed sealed answer (privproc.sealed ``SealedStream``).
SEALED_STREAM_MEDIA = "application/privproc-sealed-stream"
#: Redeems the value of an ``Authorization`` header once; raises TokenError or ReplayError.
Redeemer = Callable[[str], Awaitable[None]]

_log = logging.getLogger("privproc.gateway")


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """``nodes``: the node base URLs this gateway forwards to; ``poll_every``: seconds
    between reads of their ``/evidence`` (to learn key ids); ``node_timeout``: seconds."""

    nodes: tuple[str, ...]
    poll_every: float = 1.0
    node_timeout: float = 60.0
    #: The longest wait between tries of a failing background loop.
    max_backoff: float = 30.0


def problem_bhttp(exc: PrivprocError) -> bhttp.Response:
    """A privproc error as an inner binary HTTP problem response (sealed to the client)."""
    body = encode_problem(exc)
    return bhttp.Response(
        exc.http_status, headers=((b"content-type", PROBLEM_JSON.encode()),), content=body
    )


def _header(msg: bhttp.Request, name: bytes) -> str:
    for key, value in msg.headers:
        if key == name:
            return value.decode("latin-1")
    return ""


async def _whole_frames(response: httpx.Response) -> AsyncIterator[bytes]:
    """A node's sealed stream as it arrives, cut at frame boundaries (the header goes with
    the first frames): each piece the gateway seals is whole frames, so the chunk sizes
    the relay sees are multiples of one frame. Holds less than one frame between reads;
    stops the stream past :data:`MAX_SEALED_STREAM` (the device then sees it truncated)."""
    held = bytearray()
    total = 0
    first = True
    try:
        async for data in response.aiter_bytes():
            total += len(data)
            if total > MAX_SEALED_STREAM:
                raise RemoteError("node stream over the size limit", status=502)
            held += data
            skip = SEALED_STREAM_HEADER if first else 0
            if len(held) < skip:
                continue
            cut = skip + (len(held) - skip) // STREAM_FRAME * STREAM_FRAME
            if cut > (skip if first else 0):
                first = False
                piece, held = bytes(held[:cut]), bytearray(held[cut:])  # no capacity kept
                yield piece
        if held:
            yield bytes(held)  # a torn last frame: the device refuses it, as it must
    finally:
        await response.aclose()


class _Forwarder:
    def __init__(self, client: httpx.AsyncClient, nodes: NodeMap, metrics: GatewayMetrics) -> None:
        self.client, self.nodes, self.metrics = client, nodes, metrics

    async def forward(self, sealed: bytes) -> bytes:
        answer = await self.forward_stream(sealed, stream=False)
        assert isinstance(answer, bytes)
        return answer

    async def forward_stream(self, sealed: bytes, *, stream: bool = True) -> bytes | httpx.Response:
        """The node's whole answer, or (``stream``, when the node streams) its response,
        still open, whose body is the sealed stream."""
        header = parse_header(sealed)
        last: PrivprocError = RemoteError("no node answered", status=502)
        for url in self.nodes.candidates(header.key_ids):
            try:
                request = self.client.build_request(
                    "POST",
                    url.rstrip("/") + "/process",
                    content=sealed,
                    headers={"content-type": SEALED_MEDIA},
                )
                answer = await self.client.send(request, stream=True)
            except httpx.HTTPError:
                self.metrics.forwards.labels("unreachable").inc()
                last = RemoteError("node unreachable", status=502)
                continue
            media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
            if answer.status_code == 200 and media == SEALED_STREAM_MEDIA and stream:
                self.metrics.forwards.labels("ok").inc()
                return answer
            try:
                await _read_limited(answer, MAX_SEALED_RESPONSE)
            except (httpx.HTTPError, RemoteError):
                self.metrics.forwards.labels("unreachable").inc()
                last = RemoteError("node answer unreadable or over the size limit", status=502)
                continue
            finally:
                await answer.aclose()
            if answer.status_code == 200 and media != SEALED_STREAM_MEDIA:
                self.metrics.forwards.labels("ok").inc()
                return answer.content
            problem = _problem_type(answer)
            self.metrics.forwards.labels(str(answer.status_code)).inc()
            last = NodeRefusedError(answer.status_code, problem)
            if answer.status_code < 500 and answer.status_code != 422:
                break  # the request itself is refused; another node would refuse it too
        raise last


async def _read_limited(answer: httpx.Response, limit: int) -> None:
    """Read a streamed response's body into ``answer.content``, at most ``limit`` bytes."""
    held = bytearray()
    async for data in answer.aiter_bytes():
        held += data
        if len(held) > limit:
            raise RemoteError("over the size limit", status=502)
    answer._content = bytes(held)  # what .content and .json() read


def _problem_type(answer: httpx.Response) -> str:
    with contextlib.suppress(ValueError, AttributeError):
        title = answer.json().get("title", "")
        if isinstance(title, str) and len(title) < 40:
            return title
    return ""


class _Gateway:
    """The gateway's request handling; :func:`create_app` wires it to routes."""

    def __init__(
        self,
        config: GatewayConfig,
        keys: KeySource,
        redeem: Redeemer,
        *,
        metrics: GatewayMetrics,
        nodes: NodeMap,
        clock: Callable[[], float],
        transport: httpx.AsyncBaseTransport | None,
    ) -> None:
        self.config, self.keys, self.redeem = config, keys, redeem
        self.metrics, self.nodes, self.clock = metrics, nodes, clock
        self.transport = transport
        self.forwarder: _Forwarder | None = None
        self.loops = {name: LoopState(name) for name in ("keys", "nodes")}

    async def poll(self, client: httpx.AsyncClient) -> None:
        """Learn each node's key id; a failure only when no node answered."""
        answered = 0
        for url in self.config.nodes:
            try:
                doc = (await client.get(url.rstrip("/") + "/evidence", timeout=5)).json()
                self.nodes.learn(bytes.fromhex(doc["key_id"]), url)
                answered += 1
            except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError):
                _log.warning("node evidence unavailable")
        if self.config.nodes and not answered:
            raise RemoteError("no node served its evidence", status=502)
        self.metrics.loop_failing.labels("nodes").set(0)

    @asynccontextmanager
    async def lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            timeout=self.config.node_timeout, transport=self.transport or HopTransport()
        ) as client:
            self.forwarder = _Forwarder(client, self.nodes, self.metrics)
            with contextlib.suppress(RemoteError):  # the nodes loop retries and reports it
                await self.poll(client)

            loops = [
                supervise(
                    self.loops["keys"],
                    self.rotate,
                    every=self.config.poll_every,
                    max_backoff=self.config.max_backoff,
                    on_failure=lambda _c: self._failed("keys"),
                ),
                supervise(
                    self.loops["nodes"],
                    lambda: self.poll(client),
                    every=self.config.poll_every,
                    max_backoff=self.config.max_backoff,
                    on_failure=lambda _c: self._failed("nodes"),
                ),
            ]
            tasks = [asyncio.create_task(loop) for loop in loops]
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def rotate(self) -> None:
        """One tick of the key schedule, in a thread: recording a key calls the ledger."""
        if await asyncio.to_thread(self.keys.tick, int(self.clock())):
            self.metrics.rotations.inc()
        self.metrics.loop_failing.labels("keys").set(0)

    def _failed(self, loop: str) -> None:
        self.metrics.loop_failures.labels(loop).inc()
        self.metrics.loop_failing.labels(loop).set(self.loops[loop].failures)

    async def inner(self, request: bhttp.Request) -> bhttp.Response:
        answer = await self.inner_stream(request, stream=False)
        assert isinstance(answer, bhttp.Response)
        return answer

    async def inner_stream(
        self, request: bhttp.Request, *, stream: bool = True
    ) -> bhttp.Response | httpx.Response:
        """Redeem the token, forward the sealed request: the inner response, or (when the
        node streams) the node's open response whose body is the sealed stream."""
        if request.method != "POST" or request.path != "/process":
            raise DecodeError("inner request: only POST /process")
        if self.forwarder is None:
            raise RemoteError("gateway starting", status=503)
        await self.redeem(_header(request, b"authorization"))
        answer = await self.forwarder.forward_stream(request.content, stream=stream)
        if isinstance(answer, httpx.Response):
            return answer
        return bhttp.Response(
            200, headers=((b"content-type", SEALED_MEDIA.encode()),), content=answer
        )

    async def handle_chunked(self, request: Request, started: float) -> Response:
        """A chunked request (draft-ietf-ohai-chunked-ohttp-08 §4): the answer goes back as
        a chunked response (§5) holding an indeterminate-length binary HTTP response (RFC
        9292 §3.2); a streamed answer is sealed and sent on as each piece of it arrives.
        The request itself is small and read whole (its limit is a sealed request's)."""
        body = await read_body(request, GATEWAY_MAX_REQUEST)
        receiver = ohttp_chunked.ChunkedRequestReceiver(self.keys.server_keys)
        try:
            parts = receiver.feed(body)
            parts.append(receiver.end())
        except UnknownKeyError:
            self.metrics.requests.labels("unknown-key").inc()
            return _key_problem()
        except PrivprocError as exc:
            self.metrics.requests.labels(exc.code).inc()
            raise PeerError("encapsulated request does not open") from None
        sender = receiver.response_sender()
        outcome = "ok"
        try:
            answer = await self.inner_stream(bhttp.decode_request(b"".join(parts)))
        except PrivprocError as exc:
            answer = problem_bhttp(exc)
            outcome = exc.code
        if isinstance(answer, bhttp.Response):
            self.metrics.requests.labels(outcome).inc()
            self.metrics.latency.observe(time.perf_counter() - started)
            sealed = sender.finish(bhttp.encode(answer, framing="indeterminate"))
            return Response(sealed, media_type=ohttp_chunked.MEDIA_TYPE_CHUNKED_RESPONSE)
        self.metrics.latency.observe(time.perf_counter() - started)  # time to the first byte
        return StreamingResponse(
            self._stream(sender, answer), media_type=ohttp_chunked.MEDIA_TYPE_CHUNKED_RESPONSE
        )

    async def _stream(
        self, sender: ohttp_chunked.ChunkedResponseSender, node: httpx.Response
    ) -> AsyncIterator[bytes]:
        """The node's sealed stream, each piece sealed as one chunk as it comes; the final
        chunk only after the node's stream ended whole. A failure stops the stream without
        it, so the device sees the answer truncated (draft §7.1)."""
        head = bhttp.encode_response_head(200, ((b"content-type", SEALED_STREAM_MEDIA.encode()),))
        outcome = "stream-broken"
        try:
            yield sender.seal(head)
            async for piece in _whole_frames(node):
                yield sender.seal(bhttp.encode_chunk(piece))
            yield sender.finish(bhttp.encode_end())
            outcome = "ok"
        except (PrivprocError, httpx.HTTPError):
            _log.warning("node stream broke off")
        finally:
            await node.aclose()
            self.metrics.requests.labels(outcome).inc()

    async def handle(self, request: Request) -> Response:
        started = time.perf_counter()
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == ohttp_chunked.MEDIA_TYPE_CHUNKED_REQUEST:
            return await self.handle_chunked(request, started)
        if media != ohttp.MEDIA_TYPE_REQUEST:
            self.metrics.requests.labels("bad-media").inc()
            raise MediaTypeError(f"gateway accepts only {ohttp.MEDIA_TYPE_REQUEST}")
        body = await read_body(request, GATEWAY_MAX_REQUEST)
        try:
            data, context = ohttp.decapsulate_request(self.keys.server_keys, body)
        except UnknownKeyError:
            self.metrics.requests.labels("unknown-key").inc()
            return _key_problem()
        except PrivprocError as exc:
            self.metrics.requests.labels(exc.code).inc()
            raise PeerError("encapsulated request does not open") from None
        try:
            answer = await self.inner(bhttp.decode_request(data))
            outcome = "ok"
        except PrivprocError as exc:
            answer = problem_bhttp(exc)
            outcome = exc.code
        self.metrics.requests.labels(outcome).inc()
        self.metrics.latency.observe(time.perf_counter() - started)
        return Response(context.seal(bhttp.encode(answer)), media_type=ohttp.MEDIA_TYPE_RESPONSE)


def create_app(
    config: GatewayConfig,
    keys: KeySource,
    redeem: Redeemer,
    *,
    metrics: GatewayMetrics | None = None,
    nodes: NodeMap | None = None,
    clock: Callable[[], float] = time.time,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Starlette:
    """The gateway app; ``keys`` must already hold at least one key (``tick`` it first).

    ``transport`` stands in for the network to the nodes (tests)."""
    metrics = metrics or GatewayMetrics()
    node_map = nodes if nodes is not None else NodeMap()
    gw = _Gateway(
        config, keys, redeem, metrics=metrics, nodes=node_map, clock=clock, transport=transport
    )

    @error_boundary
    async def gateway(request: Request) -> Response:
        return await gw.handle(request)

    async def key_configs(_request: Request) -> Response:
        return Response(
            keys.encoded(),
            media_type=ohttp.MEDIA_TYPE_KEYS,
            headers={"cache-control": "max-age=60"},
        )

    async def prometheus(_request: Request) -> Response:
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    async def health(_request: Request) -> Response:
        """Serving (200); the body says whether every background loop is healthy."""
        healthy = all(loop.ok for loop in gw.loops.values())
        body = {
            "status": "ok" if healthy else "degraded",
            "loops": {name: loop.as_dict() for name, loop in gw.loops.items()},
            "keys": len(keys.entries),
        }
        return JSONResponse(body, headers={"cache-control": "no-store"})

    return Starlette(
        routes=[
            Route("/gateway", gateway, methods=["POST"]),
            Route("/ohttp-keys", key_configs, methods=["GET"]),
            Route("/metrics", prometheus, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=gw.lifespan,
    )


def _key_problem() -> Response:
    """RFC 9458 §5.3: the key configuration is not (or no longer) accepted."""
    body = {
        "type": ohttp.PROBLEM_TYPE_KEY,
        "title": "ohttp-key",
        "status": 400,
        "detail": "unknown or expired key configuration; refetch the keys",
    }
    return Response(json.dumps(body), status_code=400, media_type=PROBLEM_JSON)
