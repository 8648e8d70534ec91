"""Private chat completions: OpenAI-style requests answered by the node's model.

The request is the OpenAI chat-completions subset a private node serves (OpenAI API
reference, "Create chat completion")::

    {"feature": "chat", "messages": [{"role", "content"}, ...], "max_tokens",
     "temperature", "stop", "stream"}

and the answer is a ``chat.completion`` object (``id``, ``object``, ``created``,
``model``, ``choices[0].message``, ``finish_reason``, ``usage``). It travels exactly like
a summary: token, OHTTP, sealed to K verified nodes. A node without a generative model
(the embedded default only embeds) refuses with ``workloads.no_generator``. Errors name
the field, never its content.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from privproc.errors import DecodeError, UnsupportedError
from privproc.workloads.backend import Backend, ChatModel, ChatStreamer, Completion

__all__ = [
    "MAX_CHAT_CHARS",
    "MAX_COMPLETION_TOKENS",
    "MAX_MESSAGES",
    "ChatRequest",
    "complete_chat",
    "parse_chat_request",
    "stream_chat",
]

#: Bounds on a request: messages, their characters in all, answer tokens, stop strings.
MAX_MESSAGES = 64
MAX_CHAT_CHARS = 48_000
MAX_COMPLETION_TOKENS = 1024
MAX_STOP = 4
MAX_STOP_CHARS = 64
_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True, slots=True, repr=False)
class ChatRequest:
    """A checked chat-completions request (``repr()`` shows no content)."""

    messages: tuple[Mapping[str, str], ...]
    max_tokens: int = 256
    temperature: float = 0.0
    stop: tuple[str, ...] = ()
    stream: bool = False

    def __repr__(self) -> str:
        return f"ChatRequest(messages=<{len(self.messages)}>, max_tokens={self.max_tokens})"


def _messages(raw: object) -> tuple[Mapping[str, str], ...]:
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_MESSAGES:
        raise DecodeError(f"chat: messages must be a list of 1..{MAX_MESSAGES}")
    out = []
    total = 0
    for m in raw:
        if not isinstance(m, dict):
            raise DecodeError("chat: each message is an object")
        role, content = m.get("role"), m.get("content")
        if role not in _ROLES:
            raise DecodeError("chat: message role must be system, user or assistant")
        if not isinstance(content, str):
            raise DecodeError("chat: message content must be a string")
        total += len(content)
        out.append({"role": str(role), "content": content})
    if total > MAX_CHAT_CHARS:
        raise DecodeError(f"chat: messages over {MAX_CHAT_CHARS} characters in all")
    return tuple(out)


def _stop(raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    items = [raw] if isinstance(raw, str) else raw
    if (
        not isinstance(items, list)
        or len(items) > MAX_STOP
        or not all(isinstance(s, str) and 0 < len(s) <= MAX_STOP_CHARS for s in items)
    ):
        raise DecodeError(f"chat: stop is a string or up to {MAX_STOP} short strings")
    return tuple(items)


def parse_chat_request(obj: Mapping[str, Any]) -> ChatRequest:
    """Check a request's fields (module docstring); a DecodeError names the bad one."""
    max_tokens = obj.get("max_tokens", 256)
    if max_tokens is None:
        max_tokens = 256
    if (
        not isinstance(max_tokens, int)
        or isinstance(max_tokens, bool)
        or not 1 <= max_tokens <= MAX_COMPLETION_TOKENS
    ):
        raise DecodeError(f"chat: max_tokens must be 1..{MAX_COMPLETION_TOKENS}")
    temperature = obj.get("temperature", 0.0)
    if temperature is None:
        temperature = 0.0
    if (
        not isinstance(temperature, int | float)
        or isinstance(temperature, bool)
        or not 0 <= temperature <= 2
    ):
        raise DecodeError("chat: temperature must be 0..2")
    stream = obj.get("stream", False)
    if not isinstance(stream, bool) and stream is not None:
        raise DecodeError("chat: stream must be true or false")
    return ChatRequest(
        _messages(obj.get("messages")),
        max_tokens,
        float(temperature),
        _stop(obj.get("stop")),
        bool(stream),
    )


def complete_chat(request: ChatRequest, backend: Backend) -> dict[str, Any]:
    """The ``chat.completion`` object answering ``request`` on ``backend``."""
    if not isinstance(backend, ChatModel):
        raise UnsupportedError(
            "workloads.no_generator: this node serves no generative model (start it with --model)"
        )
    answer = backend.complete(
        request.messages,
        max_tokens=request.max_tokens,
        temperature=request.temperature,
        stop=request.stop,
    )
    return {
        "id": "chatcmpl-" + secrets.token_hex(12),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": backend.name,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": answer.text},
                "finish_reason": answer.finish_reason,
            }
        ],
        "usage": {
            "prompt_tokens": answer.prompt_tokens,
            "completion_tokens": answer.completion_tokens,
            "total_tokens": answer.prompt_tokens + answer.completion_tokens,
        },
    }


def _chunk(base: dict[str, Any], delta: dict[str, str], finish: str | None) -> dict[str, Any]:
    return {
        **base,
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def stream_chat(request: ChatRequest, backend: Backend) -> Iterator[dict[str, Any]]:
    """The answer to ``request`` as it is written (OpenAI "The chat completion chunk
    object"): ``{"chunk": chat.completion.chunk}`` per text delta, the first carrying the
    assistant role, then ``{"done": {"completion": chat.completion}}``, whose last chunk's
    finish reason and whole text the device checks against the deltas it saw."""
    if isinstance(backend, ChatStreamer):
        items = backend.complete_stream(
            request.messages,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            stop=request.stop,
        )
    elif isinstance(backend, ChatModel):  # a model that cannot stream: one delta, the whole text
        whole = backend.complete(
            request.messages,
            max_tokens=request.max_tokens,
            temperature=request.temperature,
            stop=request.stop,
        )
        items = iter([whole.text, whole] if whole.text else [whole])
    else:
        raise UnsupportedError(
            "workloads.no_generator: this node serves no generative model (start it with --model)"
        )
    base: dict[str, Any] = {
        "id": "chatcmpl-" + secrets.token_hex(12),
        "created": int(time.time()),
        "model": backend.name,
    }
    first = True
    final: Completion | None = None
    for item in items:
        if isinstance(item, Completion):
            final = item
            break
        delta = {"role": "assistant", "content": item} if first else {"content": item}
        first = False
        yield {"chunk": _chunk(base, delta, None)}
    if final is None:
        raise UnsupportedError("workloads.stream_ended: the model's stream ended without an end")
    yield {"chunk": _chunk(base, {}, final.finish_reason)}
    yield {
        "done": {
            "completion": {
                **base,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": final.text},
                        "finish_reason": final.finish_reason,
                    }
                ],
                "usage": {
                    "prompt_tokens": final.prompt_tokens,
                    "completion_tokens": final.completion_tokens,
                    "total_tokens": final.prompt_tokens + final.completion_tokens,
                },
            }
        }
    }
