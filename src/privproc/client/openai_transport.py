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

``stream=True`` works with the SDK's streaming reader; until sealed responses are
chunked end to end (docs/openai.md), the answer arrives whole and is then delivered as
server-sent events (WHATWG HTML §9.2): one delta with the text, one with the finish
reason, then ``[DONE]``.
"""

from __future__ import annotations

import json
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


def _events(completion: dict[str, Any]) -> bytes:
    """A ``chat.completion`` as the SDK's ``chat.completion.chunk`` event stream."""
    choice = completion["choices"][0]
    base = {k: completion[k] for k in ("id", "created", "model")}
    chunks = [
        {
            **base,
            "object": "chat.completion.chunk",
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "content": choice["message"]["content"]},
                    "finish_reason": None,
                }
            ],
        },
        {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": choice["finish_reason"]}],
        },
    ]
    out = b"".join(b"data: " + json.dumps(c).encode() + b"\n\n" for c in chunks)
    return out + b"data: [DONE]\n\n"


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
        if stream:
            return httpx2.Response(
                200, headers={"content-type": "text/event-stream"}, content=_events(completion)
            )
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
