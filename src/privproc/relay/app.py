"""The relay's ASGI app: one route that forwards to one gateway (RFC 9458 §6.1, §7).

What crosses the relay: the body, and of the headers only ``content-type`` (which
must be ``message/ohttp-req``, or ``message/ohttp-chunked-req`` of
draft-ietf-ohai-chunked-ohttp-08) and the length. A chunked response
(``message/ohttp-chunked-res``) is passed back as it arrives, one read at a time, never
held whole (docs/streaming.md); the relay stops it past ``max_stream`` bytes. Everything
that could identify the client (``Forwarded``, ``X-Forwarded-*``, ``Via``, ``Cookie``,
``User-Agent``, ``Authorization``, the address) stays behind. The gateway's answer comes back with
its status and, again, only its content type and length.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from privproc._hop import HopTransport
from privproc._http import error_boundary, read_body
from privproc.errors import ConfigError, MediaTypeError, RateLimitedError, RemoteError
from privproc.limits import RELAY_MAX_BODY, RELAY_MAX_STREAM
from privproc.relay.ratelimit import RateLimiter

__all__ = [
    "OHTTP_CHUNKED_REQ",
    "OHTTP_CHUNKED_RES",
    "OHTTP_REQ",
    "OHTTP_RES",
    "RelayConfig",
    "create_app",
    "forward_headers",
]

#: RFC 9458 §9.1 / §9.2 media types.
OHTTP_REQ = "message/ohttp-req"
OHTTP_RES = "message/ohttp-res"
#: draft-ietf-ohai-chunked-ohttp-08 §3 media types (the relay holds no code to open them).
OHTTP_CHUNKED_REQ = "message/ohttp-chunked-req"
OHTTP_CHUNKED_RES = "message/ohttp-chunked-res"

#: Response content types passed back from the gateway; anything else becomes a 502.
_PASSED_BACK = (OHTTP_RES, OHTTP_CHUNKED_RES, "application/problem+json")

_log = logging.getLogger("privproc.relay")


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """How a relay runs.

    ``gateway_url``: the one gateway resource every request goes to.
    ``rate`` / ``burst``: token bucket per client address (requests/s, bucket size).
    ``max_body``: largest request accepted and largest response passed back.
    ``max_stream``: largest chunked response passed back (counted as it passes).
    ``timeout``: seconds to wait for the gateway.
    """

    gateway_url: str
    rate: float = 20.0
    burst: int = 40
    max_body: int = RELAY_MAX_BODY
    max_stream: int = RELAY_MAX_STREAM
    timeout: float = 30.0
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)

    def __post_init__(self) -> None:
        if not self.gateway_url.startswith(("http://", "https://")):
            raise ConfigError("relay: gateway URL must be http(s)")
        if self.max_body < 1 or self.max_stream < 1 or self.timeout <= 0:
            raise ConfigError("relay: max_body and timeout must be positive")


def forward_headers(content_type: str, length: int) -> dict[str, str]:
    """The only headers the relay sends on: a content type and the length."""
    return {"content-type": content_type, "content-length": str(length)}


def create_app(
    config: RelayConfig, *, transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """Build the relay app for ``config`` (``transport`` lets tests stand in for the network)."""
    limiter = RateLimiter(config.rate, config.burst)
    holder: dict[str, httpx.AsyncClient] = {}

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            transport=transport or HopTransport(),
            timeout=config.timeout,
            follow_redirects=False,
            headers={"user-agent": ""},
        ) as client:
            holder["client"] = client
            yield

    @error_boundary
    async def relay(request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        if not limiter.allow(address, config.clock()):
            raise RateLimitedError("rate limit reached")
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in (OHTTP_REQ, OHTTP_CHUNKED_REQ):
            raise MediaTypeError(f"relay forwards only {OHTTP_REQ} and {OHTTP_CHUNKED_REQ}")
        body = await read_body(request, config.max_body)
        client = holder["client"]
        try:
            answer = await _post(client, config, body, media)
        except httpx.HTTPError as exc:
            _log.warning("gateway unreachable: %s", type(exc).__name__)
            raise RemoteError("gateway unreachable", status=502) from None
        return answer

    async def health(_request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    return Starlette(
        routes=[Route("/", relay, methods=["POST"]), Route("/healthz", health, methods=["GET"])],
        lifespan=lifespan,
    )


async def _passed(response: httpx.Response, limit: int) -> AsyncIterator[bytes]:
    """A chunked response's bytes as they arrive, one read held at a time; past ``limit``
    bytes the stream stops (the device sees it truncated, draft §7.1)."""
    size = 0
    try:
        async for chunk in response.aiter_raw():
            size += len(chunk)
            if size > limit:
                _log.warning("gateway stream over the size limit")
                return
            yield chunk
    except httpx.HTTPError as exc:
        _log.warning("gateway stream broke off: %s", type(exc).__name__)
    finally:
        await response.aclose()


async def _post(
    client: httpx.AsyncClient, config: RelayConfig, body: bytes, media: str = OHTTP_REQ
) -> Response:
    request = client.build_request(
        "POST", config.gateway_url, content=body, headers=forward_headers(media, len(body))
    )
    # Only what we set goes out: drop httpx's defaults that could vary per client.
    for name in list(request.headers.keys()):
        if name.lower() not in ("content-type", "content-length", "host"):
            del request.headers[name]
    response = await client.send(request, stream=True)
    answered = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media == OHTTP_CHUNKED_REQ and answered == OHTTP_CHUNKED_RES:
        return StreamingResponse(
            _passed(response, config.max_stream),
            status_code=response.status_code,
            media_type=OHTTP_CHUNKED_RES,
        )
    try:
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > config.max_body:
                raise RemoteError("gateway response over the size limit", status=502)
            chunks.append(chunk)
    finally:
        await response.aclose()
    media = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if media not in _PASSED_BACK:
        raise RemoteError("gateway answered an unexpected media type", status=502)
    return Response(b"".join(chunks), status_code=response.status_code, media_type=media)
