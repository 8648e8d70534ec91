"""privproc._http: the one error-to-response mapping and bounded body reads."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence

import pytest
from starlette.requests import Request
from starlette.responses import Response

from privproc._http import PROBLEM_JSON, error_boundary, problem_response, read_body
from privproc.errors import (
    AttestationError,
    DecodeError,
    OpenError,
    PrivprocError,
    QuotaError,
)

CANARY = "canary-plaintext-7f3a"


def _request(headers: Sequence[tuple[bytes, bytes]], chunks: Sequence[bytes]) -> Request:
    """A starlette Request over an in-memory ASGI scope whose body arrives in ``chunks``."""
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1}
        for i, c in enumerate(chunks)
    ] or [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": list(headers)}
    return Request(scope, receive)


def _read(headers: Sequence[tuple[bytes, bytes]], chunks: Sequence[bytes], limit: int) -> bytes:
    return asyncio.run(read_body(_request(headers, chunks), limit))


def test_read_body_within_limit() -> None:
    assert _read([(b"content-length", b"6")], [b"abc", b"def"], 6) == b"abcdef"
    assert _read([], [b"abc", b"def"], 6) == b"abcdef"


def test_read_body_refuses_declared_and_streamed_excess_with_413() -> None:
    with pytest.raises(DecodeError) as declared:
        _read([(b"content-length", b"7")], [b"abcdefg"], 6)
    assert declared.value.http_status == 413
    with pytest.raises(DecodeError) as streamed:
        _read([], [b"abcd", b"efg"], 6)  # no Content-Length: counted while streaming
    assert streamed.value.http_status == 413


@pytest.mark.parametrize("value", [b"abc", b"-1", b"1e3", b"", b"\xb2", b"\xb9\xb2"])
def test_read_body_malformed_content_length_is_typed_400(value: bytes) -> None:
    # b"\xb2" is "²" once decoded as latin-1: str.isdigit() says yes, int() raised
    # ValueError, which the boundary turned into a bare 500.
    with pytest.raises(DecodeError) as info:
        _read([(b"content-length", value)], [b"x"], 6)
    assert info.value.http_status == 400


def _call(exc: Exception) -> Response:
    async def endpoint(_request: Request) -> Response:
        raise exc

    async def call() -> Response:
        return await error_boundary(endpoint)(_request([], []))

    return asyncio.run(call())


def test_problem_response_is_rfc9457() -> None:
    resp = problem_response(QuotaError("quota used up"))
    assert resp.status_code == 429
    assert resp.media_type == PROBLEM_JSON
    body = json.loads(bytes(resp.body))
    assert body == {
        "type": "urn:privproc:problem:quota-exceeded",
        "title": "quota-exceeded",
        "status": 429,
        "detail": "quota used up",
    }


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (DecodeError("bad bytes"), 400),
        (OpenError(), 400),
        (AttestationError("policy.debug", "debug on"), 403),
        (PrivprocError("x"), 500),
    ],
)
def test_error_boundary_maps_privproc_errors(exc: PrivprocError, status: int) -> None:
    resp = _call(exc)
    assert resp.status_code == status
    assert json.loads(bytes(resp.body))["type"] == f"urn:privproc:problem:{exc.code}"


def test_error_boundary_hides_unexpected_errors(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="privproc.http"):
        resp = _call(RuntimeError(f"internal detail {CANARY}"))
    assert resp.status_code == 500
    assert CANARY not in bytes(resp.body).decode()
    assert json.loads(bytes(resp.body)) == {
        "type": "urn:privproc:problem:internal",
        "title": "internal",
        "status": 500,
    }
    assert CANARY not in caplog.text
    assert "RuntimeError" in caplog.text
