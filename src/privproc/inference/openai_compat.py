"""A backend on an OpenAI-compatible inference server (vLLM, llama.cpp server, Ollama).

At scale the node runs the model on a GPU inference server inside the same confidential
VM and talks to it on loopback with the OpenAI chat-completions API
(``POST {base}/v1/chat/completions``, streamed as server-sent events when asked, see the
WHATWG HTML standard §9.2 "Server-sent events" for the framing). This module is the
one place in ``workloads`` that speaks HTTP; it never logs or puts message text in an
error. Embeddings come from the server's ``/v1/embeddings`` when ``embedding_model`` is
set, else from ``embedder`` (by default the embedded MiniLM).
"""

from __future__ import annotations

import json
import os
import ssl
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from typing import Any, cast

import httpx
import numpy as np
import numpy.typing as npt

from privproc.errors import ConfigError, MisuseError, RemoteError
from privproc.workloads.backend import Backend, Completion

__all__ = ["OpenAICompatible"]

#: Largest response body read from the server (non-streamed), and largest streamed text.
MAX_RESPONSE_BYTES = 4 << 20
MAX_STREAM_CHARS = 64 << 10


@cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: a forked request child makes its own pool
    (``_client``), and httpx would otherwise load the CA bundle anew for each (about 30 ms
    a request)."""
    return httpx.create_ssl_context()


class OpenAICompatible:
    """Chat completions (plain or streamed) and embeddings from an OpenAI-compatible server.

    ``base_url`` is the server root (``http://127.0.0.1:8000``) with or without ``/v1``.
    ``timeout`` bounds each read; ``connect_timeout`` the connection. ``transport`` is for
    tests that bring their own httpx transport.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        embedder: Backend | None = None,
        embedding_model: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError("inference server URL must start with http:// or https://")
        if not model:
            raise ConfigError("inference server model name is empty")
        root = base_url.rstrip("/")
        self.base_url = root if root.endswith("/v1") else root + "/v1"
        self.model = model
        self.name = f"openai-compatible ({model})"
        self._embedder = embedder
        self._embedding_model = embedding_model
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._settings = (headers, httpx.Timeout(timeout, connect=connect_timeout), transport)
        self._tls = _tls_context()  # here, in the parent: a forked child reuses it
        self._pid = 0
        self._pool: httpx.Client | None = None

    @property
    def _client(self) -> httpx.Client:
        """This process's connection pool: a forked request child makes its own rather
        than share the parent's sockets (an answer could reach the wrong process)."""
        if self._pool is None or self._pid != os.getpid():
            headers, timeout, transport = self._settings
            self._pool = httpx.Client(
                headers=headers,
                timeout=timeout,
                transport=transport,
                follow_redirects=False,
                verify=self._tls,
            )
            self._pid = os.getpid()
        return self._pool

    def close(self) -> None:
        """Close the connection pool."""
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None

    def __enter__(self) -> OpenAICompatible:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- requests ---------------------------------------------------------------------------

    def _body(
        self, prompt: str, system: str, max_tokens: int, temperature: float, stream: bool
    ) -> dict[str, Any]:
        if max_tokens < 1:
            raise MisuseError("max_tokens must be positive")
        messages = [{"role": "system", "content": system}] if system else []
        messages.append({"role": "user", "content": prompt})
        return {
            "model": self.model,
            "messages": messages,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": stream,
        }

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            with self._client.stream("POST", self.base_url + path, json=body) as response:
                _check_status(response)
                data = bytearray()
                for chunk in response.iter_bytes():
                    data += chunk
                    if len(data) > MAX_RESPONSE_BYTES:
                        raise RemoteError("inference server response too large", status=502)
        except httpx.TimeoutException:
            raise RemoteError("inference server timed out", status=504) from None
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"inference server unreachable: {type(exc).__name__}", status=502
            ) from None
        try:
            parsed = json.loads(data)
        except ValueError:
            raise RemoteError("inference server sent malformed JSON", status=502) from None
        if not isinstance(parsed, dict):
            raise RemoteError("inference server sent malformed JSON", status=502)
        return parsed

    def generate(
        self, prompt: str, *, system: str = "", max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        """The model's reply (``/v1/chat/completions``, not streamed)."""
        reply = self._post(
            "/chat/completions", self._body(prompt, system, max_tokens, temperature, False)
        )
        try:
            content = reply["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise RemoteError("inference server reply has no message", status=502) from None
        if not isinstance(content, str):
            raise RemoteError("inference server reply has no message", status=502)
        return content

    def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Completion:
        """The next assistant message after a whole chat (``/v1/chat/completions``)."""
        if max_tokens < 1:
            raise MisuseError("max_tokens must be positive")
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": False,
        }
        if stop:
            body["stop"] = list(stop)
        reply = self._post("/chat/completions", body)
        try:
            choice = reply["choices"][0]
            content = choice["message"]["content"]
            finish = choice.get("finish_reason") or "stop"
            usage = reply.get("usage") or {}
            prompt_tokens = int(usage.get("prompt_tokens", 0))
            completion_tokens = int(usage.get("completion_tokens", 0))
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            raise RemoteError("inference server reply has no message", status=502) from None
        if not isinstance(content, str) or finish not in ("stop", "length"):
            raise RemoteError("inference server reply has no message", status=502)
        return Completion(content, finish, prompt_tokens, completion_tokens)

    def complete_stream(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Iterator[str | Completion]:
        """The next assistant message as it is written (``stream: true``): each text delta
        of the server-sent events, then a :class:`Completion` with the whole text and the
        finish reason of the last event (privproc.workloads.backend.ChatStreamer)."""
        if max_tokens < 1:
            raise MisuseError("max_tokens must be positive")
        body: dict[str, Any] = {
            "model": self.model,
            "messages": [{"role": m["role"], "content": m["content"]} for m in messages],
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if stop:
            body["stop"] = list(stop)
        parts: list[str] = []
        total = 0
        finish = "stop"
        try:
            with self._client.stream(
                "POST", self.base_url + "/chat/completions", json=body
            ) as response:
                _check_status(response)
                for data in _sse_data(response.iter_lines()):
                    if data == "[DONE]":
                        break
                    delta, reason = _delta_and_finish(data)
                    if reason is not None:
                        finish = reason
                    if delta:
                        total += len(delta)
                        if total > MAX_STREAM_CHARS:
                            raise RemoteError("inference server stream too long", status=502)
                        parts.append(delta)
                        yield delta
        except httpx.TimeoutException:
            raise RemoteError("inference server timed out", status=504) from None
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"inference server unreachable: {type(exc).__name__}", status=502
            ) from None
        yield Completion("".join(parts), finish, 0, len(parts))

    def stream(
        self, prompt: str, *, system: str = "", max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        """The reply as it is written: text deltas from the server-sent event stream."""
        body = self._body(prompt, system, max_tokens, temperature, True)
        total = 0
        try:
            with self._client.stream(
                "POST", self.base_url + "/chat/completions", json=body
            ) as response:
                _check_status(response)
                for data in _sse_data(response.iter_lines()):
                    if data == "[DONE]":
                        return
                    delta = _delta(data)
                    if delta:
                        total += len(delta)
                        if total > MAX_STREAM_CHARS:
                            raise RemoteError("inference server stream too long", status=502)
                        yield delta
        except httpx.TimeoutException:
            raise RemoteError("inference server timed out", status=504) from None
        except httpx.HTTPError as exc:
            raise RemoteError(
                f"inference server unreachable: {type(exc).__name__}", status=502
            ) from None

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Unit-norm embeddings: the server's ``/v1/embeddings``, else ``embedder``."""
        if self._embedding_model is None:
            if self._embedder is None:
                from privproc.workloads.minilm import load_default_backend

                self._embedder = load_default_backend()
            return self._embedder.embed(texts)
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        reply = self._post("/embeddings", {"model": self._embedding_model, "input": list(texts)})
        try:
            rows = sorted(reply["data"], key=lambda item: item["index"])
            vectors = np.array([row["embedding"] for row in rows], dtype=np.float32)
        except (KeyError, TypeError, ValueError):
            raise RemoteError("inference server sent malformed embeddings", status=502) from None
        if vectors.ndim != 2 or vectors.shape[0] != len(texts):
            raise RemoteError("inference server sent malformed embeddings", status=502)
        norms = np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return cast(npt.NDArray[np.float32], (vectors / norms).astype(np.float32))


def _check_status(response: httpx.Response) -> None:
    if response.status_code != 200:
        raise RemoteError("inference server refused the request", status=response.status_code)


def _sse_data(lines: Iterator[str]) -> Iterator[str]:
    """The ``data`` of each server-sent event (HTML §9.2.6: fields, blank line ends an event)."""
    buffer: list[str] = []
    for line in lines:
        if not line:
            if buffer:
                yield "\n".join(buffer)
                buffer = []
            continue
        if line.startswith(":"):
            continue  # a comment
        field, _, value = line.partition(":")
        if field == "data":
            buffer.append(value[1:] if value.startswith(" ") else value)
    if buffer:
        yield "\n".join(buffer)


def _delta(data: str) -> str:
    try:
        event = json.loads(data)
        content = event["choices"][0].get("delta", {}).get("content") if event["choices"] else ""
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        raise RemoteError("inference server sent a malformed event", status=502) from None
    return content if isinstance(content, str) else ""


def _delta_and_finish(data: str) -> tuple[str, str | None]:
    """A chat.completion.chunk's text delta and finish reason (``None`` until the last)."""
    delta = _delta(data)
    try:
        reason = json.loads(data)["choices"][0].get("finish_reason")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        reason = None
    if reason not in (None, "stop", "length"):
        raise RemoteError("inference server sent a malformed event", status=502)
    return delta, reason
