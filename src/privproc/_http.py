"""What every privproc service shares at its HTTP boundary.

Errors become RFC 9457 problem details in exactly one place
(:func:`problem_response`); bodies are read with a hard size limit; servers run
under uvicorn with access logs off (no party logs request content or, except the
relay's rate limiter in memory, client addresses). Every server runs on uvloop with
uvicorn's httptools (llhttp) parser (:data:`UVICORN_LOOP`, :data:`UVICORN_HTTP`), not
asyncio's selector loop and the pure-Python h11 parser: 10-30 % less server CPU per
request in the issue 18 measurements (docs/e2e-bench.md).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from privproc.errors import DecodeError, PrivprocError, TooLargeError
from privproc.problem import INTERNAL, PROBLEM_JSON, encode_problem

__all__ = [
    "PROBLEM_JSON",
    "UVICORN_HTTP",
    "UVICORN_LOOP",
    "error_boundary",
    "problem_response",
    "read_body",
    "serve",
]

#: The event loop and HTTP/1.1 parser every privproc server runs with (uvloop; httptools,
#: i.e. llhttp), named rather than uvicorn's "auto" so a missing one fails at start
#: instead of silently costing each request the pure-Python path.
UVICORN_LOOP: Final = "uvloop"
UVICORN_HTTP: Final = "httptools"


_log = logging.getLogger("privproc.http")


def problem_response(exc: PrivprocError) -> Response:
    """Map a privproc error to a problem-details response (RFC 9457 §3.1).

    The ``detail`` is the error's own message, which by construction never holds
    request content (errors name checks, lengths and public values only).
    """
    return Response(encode_problem(exc), status_code=exc.http_status, media_type=PROBLEM_JSON)


Endpoint = Callable[[Request], Awaitable[Response]]


def error_boundary(endpoint: Endpoint) -> Endpoint:
    """Wrap an endpoint so privproc errors become problems and anything else a bare 500."""

    async def wrapped(request: Request) -> Response:
        try:
            return await endpoint(request)
        except PrivprocError as exc:
            _log.info("refused: %s", exc.code)
            return problem_response(exc)
        except Exception as exc:  # noqa: BLE001 - the boundary: never leak internals to a peer
            _log.error("internal error: %s", type(exc).__name__)
            return Response(json.dumps(INTERNAL), status_code=500, media_type=PROBLEM_JSON)

    return wrapped


async def read_body(request: Request, max_bytes: int) -> bytes:
    """Read a request body, refusing more than ``max_bytes`` (status 413).

    A Content-Length that is not a decimal number is bad peer input (DecodeError, 400).
    """
    declared = request.headers.get("content-length")
    if declared is not None:
        # RFC 9110 §8.6: 1*DIGIT, ASCII only (str.isdigit also accepts "²", which int() refuses).
        if not (declared.isascii() and declared.isdigit()):
            raise DecodeError("malformed Content-Length (RFC 9110 §8.6)")
        if int(declared) > max_bytes:
            raise TooLargeError(f"request body over {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise TooLargeError(f"request body over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def serve(
    app: Callable[..., Awaitable[None]], host: str, port: int, *, log_level: str = "warning"
) -> None:
    """Run an ASGI app under uvicorn until interrupted, with access logs off."""
    import uvicorn

    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        server_header=False,
        loop=UVICORN_LOOP,
        http=UVICORN_HTTP,
    )
