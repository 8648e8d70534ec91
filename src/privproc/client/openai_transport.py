"""A drop-in transport for the OpenAI Python SDK that sends chats through the private path.

::

    from openai import OpenAI
    from privproc.openai import private_http_client

    client = OpenAI(api_key="unused", base_url="https://private.invalid/v1",
                    http_client=private_http_client())
    client.chat.completions.create(model="local", messages=[...])

The SDK (``openai`` 3.x speaks ``httpx2``) hands every request to
:class:`PrivateTransport`, which never opens a socket to ``base_url``. ``POST
.../chat/completions`` becomes :meth:`privproc.client.sdk.Device.chat`: the device
verifies the directory against the witnessed ledger and the hardware evidence before
the first request, takes a token from the wallet, seals the chat to K verified nodes,
sends it through the relay and appends to the on-device report. Anything else answers
404 in the OpenAI error format.

Failures, fail closed:

* the device refuses (a verification check, a missing config, an unreachable relay):
  the transport raises :class:`httpx2.ConnectError` whose message starts with the failed
  check (``"release.missing: ..."``), so the SDK raises ``APIConnectionError`` with that
  error as its cause, and nothing is sent;
* a bad request (checked on the device, before anything leaves it) answers 400, and a
  node's refusal answers the node's status (422 when the node serves no model), each in
  the OpenAI error format, so the SDK raises its ``BadRequestError`` /
  ``UnprocessableEntityError``; no message text is in either.

``stream=True`` really streams (docs/streaming.md): the request goes as
:meth:`~privproc.client.sdk.Device.stream_chat`, and each ``chat.completion.chunk`` the
node's model writes is handed to the SDK as a server-sent event (WHATWG HTML §9.2) as
soon as its sealed frame opens on the device, then ``[DONE]``. The first event is
awaited before the response is returned, so a refusal before the stream maps to an
error status exactly as above; a stream that breaks off or is tampered with after that
raises :class:`httpx2.RemoteProtocolError` carrying the failed check (``truncated``, or
the open failure), and the SDK's iterator raises it: no partial answer passes as whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2

from privproc.client.sdk import Device
from privproc.errors import DecodeError, PrivprocError, RemoteError

__all__ = ["PrivateTransport", "private_http_client"]

_JSON = {"content-type": "application/json"}


def _error(status: int, message: str, kind: str) -> httpx2.Response:
    body = {"error": {"message": message, "type": kind, "param": None, "code": kind}}
    return httpx2.Response(status, headers=_JSON, content=json.dumps(body).encode())


def _sse(event: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(event).encode() + b"\n\n"


class _EventStream(httpx2.SyncByteStream):
    """The SDK's event stream, one server-sent event per chunk as it opens on the device."""

    def __init__(self, first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> None:
        self._first, self._rest = first, rest

    def __iter__(self) -> Iterator[bytes]:
        try:
            if "chunk" in self._first:
                yield _sse(self._first["chunk"])
            for event in self._rest:
                if "chunk" in event:
                    yield _sse(event["chunk"])
        except PrivprocError as exc:
            raise httpx2.RemoteProtocolError(f"{exc.code}: {exc}") from exc
        yield b"data: [DONE]\n\n"


class PrivateTransport(httpx2.BaseTransport):
    """The OpenAI SDK's transport: chat completions through ``device`` (module docstring)."""

    def __init__(self, device: Device) -> None:
        self.device = device

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method != "POST" or not request.url.path.endswith("/chat/completions"):
            return _error(404, "only POST /v1/chat/completions is served privately", "not_found")
        try:
            body = json.loads(request.read())
        except (ValueError, RecursionError):
            return _error(400, "the request body is not JSON", "invalid_request_error")
        if not isinstance(body, dict):
            return _error(400, "the request body is not an object", "invalid_request_error")
        stream = body.get("stream") is True
        try:
            if stream:
                events = iter(self.device.stream_chat(body))
                first = next(events)  # a refusal comes before the stream: mapped below
                return httpx2.Response(
                    200,
                    headers={"content-type": "text/event-stream"},
                    stream=_EventStream(first, events),
                )
            answer = self.device.chat(body)
        except DecodeError as exc:  # checked on the device: nothing was sent
            return _error(400, str(exc), "invalid_request_error")
        except RemoteError as exc:
            if 400 <= exc.status < 500 and exc.status not in (401, 403):
                return _error(exc.status, str(exc), "node_refused")
            raise httpx2.ConnectError(str(exc), request=request) from exc
        except PrivprocError as exc:
            raise httpx2.ConnectError(str(exc), request=request) from exc
        completion = answer.result["completion"]
        return httpx2.Response(200, headers=_JSON, content=json.dumps(completion).encode())

    def close(self) -> None:
        self.device.close()


def private_http_client(home: Path | None = None, *, device: Device | None = None) -> httpx2.Client:
    """An ``httpx2.Client`` for ``OpenAI(http_client=...)`` that answers chat completions
    through the private path, with the device configured under ``home`` (default
    ``$PRIVPROC_HOME/client``, the config ``privproc up`` writes) or the given ``device``."""
    if device is None:
        from privproc.client.session import open_device

        device = open_device(home)
    return httpx2.Client(transport=PrivateTransport(device), timeout=device.config.request_timeout)
