"""The node's own llama.cpp inference server: OpenAI-compatible, loopback only, keeps nothing.

A node started with ``--model FILE.gguf`` runs this file as a long-lived child, with
the Python that has ``llama-cpp-python`` (``.venv-llama``, scripts/install-llama.sh);
it imports only the standard library and ``llama_cpp``, so it runs there without
privproc installed. Each per-request child of the node talks to it on 127.0.0.1
through :class:`privproc.inference.openai_compat.OpenAICompatible`; plaintext goes
nowhere else.

API (the OpenAI chat-completions subset the node uses)::

    POST /v1/chat/completions   {"messages", "max_tokens", "temperature", "stop", "stream"}
                                JSON reply, or server-sent events ending "data: [DONE]"
                                (WHATWG HTML §9.2) when ``stream`` is true
    GET  /health                {"status", "requests", "cleared", "kv_tokens", "kv_pos_max"}

What state it holds, exactly, and when it is cleared. Between requests the server
holds the model weights (public: their SHA-256 is in the release record) and
nothing derived from a request. During a request it holds the prompt and the
answer as Python strings, their token ids (``Llama.input_ids``), the logits of the
last batch (``Llama.scores``) and the KV cache (keys and values of every prompt and
answer token, in llama.cpp's buffers). After every request, answered or failed, it:

1. resets the token count (no prefix of the next prompt is ever matched against
   this one: llama-cpp-python's prompt reuse is off, and no ``LlamaCache`` is set);
2. clears the KV cache with its data buffers (``llama_memory_clear(mem, true)``,
   which zeroes them);
3. zeroes ``input_ids`` and ``scores`` in place, and the request body's buffer.

``/health`` reports ``kv_tokens`` 0 and ``kv_pos_max`` -1 (an empty cache) after each
request (tests/interop/test_llama_server.py checks it). What it cannot wipe: the
Python ``str`` and ``dict`` objects the chat template and the JSON codec made are
freed, not overwritten (CPython has no way to clear an immutable string), until the
allocator reuses their memory. The node's per-request child, which exits, is where
the plaintext lives otherwise; this server is inside the same measured confidential
VM, reachable only on loopback.

Threads. llama.cpp's CPU backend runs its parallel sections with OpenMP, whose idle
threads spin by default. On a machine whose cores are shared (every party of a node on
2 cores, or CI), spinning threads steal the cores the computing ones need: prompt
evaluation measured 2-5 s of CPU for 22 tokens with spinning and 0.2 s with
``OMP_WAIT_POLICY=PASSIVE`` (2 shared cores, load 10; docs/workloads.md). So this
server sets PASSIVE unless the operator chose a policy, before llama.cpp is loaded.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

__all__ = ["LOOPBACK", "MAX_BODY", "MAX_TOKENS", "main"]

MAX_BODY = 1 << 20
MAX_TOKENS = 1024
MAX_STOP = 4
LOOPBACK = ("127.0.0.1", "::1", "localhost")


class _Model:
    """The loaded model and the clearing that follows every request."""

    def __init__(self, path: str, n_ctx: int, threads: int | None) -> None:
        import llama_cpp  # type: ignore[import-not-found,unused-ignore]

        self._lib = llama_cpp
        self.llm = llama_cpp.Llama(
            model_path=path, n_ctx=n_ctx, n_threads=threads, verbose=False, seed=0
        )
        self.lock = threading.Lock()
        self.requests = 0
        self.cleared = 0

    def _memory(self) -> Any:
        return self._lib.llama_get_memory(self.llm.ctx)

    def clear(self) -> None:
        """Forget the request: token count, KV cache with its data, ids and logits."""
        self.llm.reset()
        memory = self._memory()
        if memory is not None:
            self._lib.llama_memory_clear(memory, True)
        self.llm.input_ids.fill(0)
        self.llm.scores.fill(0.0)
        self.cleared += 1

    def state(self) -> dict[str, Any]:
        memory = self._memory()
        pos_max = -1 if memory is None else int(self._lib.llama_memory_seq_pos_max(memory, 0))
        return {
            "status": "ok",
            "requests": self.requests,
            "cleared": self.cleared,
            "kv_tokens": int(self.llm.n_tokens),
            "kv_pos_max": pos_max,
        }


_Params = tuple[list[dict[str, str]], int, float, bool, list[str] | None]


def _params(body: Any) -> _Params | str:
    """The request's fields, or the name of the first one missing or out of range.

    This file runs outside privproc's venv, so it cannot raise privproc.errors; the node's
    client (OpenAICompatible) turns the 400 naming the field into a RemoteError."""
    if not isinstance(body, dict):
        return "messages"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages"
    clean = []
    for m in messages:
        if not isinstance(m, dict):
            return "messages"
        role, content = m.get("role"), m.get("content")
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            return "messages"
        clean.append({"role": role, "content": content})
    max_tokens = body.get("max_tokens", 256)
    temperature = body.get("temperature", 0.0)
    if not isinstance(max_tokens, int) or not 1 <= max_tokens <= MAX_TOKENS:
        return "max_tokens"
    if not isinstance(temperature, int | float) or not 0 <= temperature <= 2:
        return "temperature"
    stop = body.get("stop")
    if isinstance(stop, str):
        stop = [stop]
    if stop is not None and (
        not isinstance(stop, list)
        or len(stop) > MAX_STOP
        or not all(isinstance(x, str) and 0 < len(x) <= 64 for x in stop)
    ):
        return "stop"
    return clean, max_tokens, float(temperature), bool(body.get("stream", False)), stop


def _handler(model: _Model) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "privproc-llama"
        sys_version = ""

        def log_message(self, *_args: Any) -> None:  # no access log: paths only, but still
            return

        def _json(self, status: int, obj: dict[str, Any]) -> None:
            data = json.dumps(obj).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _refuse(self, status: int, what: str) -> None:
            self._json(status, {"error": {"message": f"bad request: {what}", "type": "invalid"}})

        def do_GET(self) -> None:
            if self.path == "/health":
                with model.lock:
                    self._json(200, model.state())
            elif self.path == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": "local", "object": "model"}]})
            else:
                self._refuse(404, "no such route")

        def do_POST(self) -> None:
            if self.path != "/v1/chat/completions":
                self._refuse(404, "no such route")
                return
            try:
                length = int(self.headers.get("content-length", ""))
            except ValueError:
                self._refuse(411, "length required")
                return
            if not 0 < length <= MAX_BODY:
                self._refuse(413, "body too large")
                return
            raw = bytearray(self.rfile.read(length))
            with model.lock:
                model.requests += 1
                try:
                    try:
                        params = _params(json.loads(raw))
                    except (ValueError, RecursionError):
                        self._refuse(400, "not JSON")
                        return
                    if isinstance(params, str):
                        self._refuse(400, params)
                        return
                    self._complete(*params)
                finally:
                    raw[:] = bytes(len(raw))
                    model.clear()

        def _complete(
            self,
            messages: list[dict[str, str]],
            max_tokens: int,
            temperature: float,
            stream: bool,
            stop: list[str] | None,
        ) -> None:
            llm = model.llm
            if not stream:
                reply = llm.create_chat_completion(
                    messages=messages,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    seed=0,
                    stop=stop,
                )
                self._json(200, {**dict(reply), "model": "local"})  # not the file's path
                return
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
            self.send_header("cache-control", "no-store")
            self.send_header("connection", "close")
            self.end_headers()
            self.close_connection = True
            for chunk in llm.create_chat_completion(
                messages=messages,
                max_tokens=max_tokens,
                temperature=temperature,
                seed=0,
                stop=stop,
                stream=True,
            ):
                event = {**dict(chunk), "model": "local"}
                self.wfile.write(b"data: " + json.dumps(event).encode() + b"\n\n")
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="privproc's loopback llama.cpp server")
    parser.add_argument("--model", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.host not in LOOPBACK:
        print("llama server: loopback only", file=sys.stderr)
        return 2
    # Read by libgomp when llama.cpp loads (module docstring, "Threads").
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    started = time.monotonic()
    model = _Model(args.model, args.n_ctx, args.threads)
    server = HTTPServer((args.host, args.port), _handler(model))
    # The node reads the bound port from this one line (``--port 0``: any free port).
    print(json.dumps({"port": server.server_address[1]}), flush=True)
    print(f"llama server ready in {time.monotonic() - started:.1f}s", file=sys.stderr, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
