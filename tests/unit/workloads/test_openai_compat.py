"""The OpenAI-compatible backend's parsing and error mapping (httpx MockTransport).

The same client runs against a real llama.cpp server in
tests/interop/test_workloads_llamacpp.py; these tests pin the edge cases a real server
does not produce on demand (malformed bodies, oversize replies, refusals).
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import numpy as np
import pytest

from privproc.errors import ConfigError, MisuseError, RemoteError
from privproc.inference.openai_compat import MAX_RESPONSE_BYTES, OpenAICompatible


def _backend(handler: Callable[[httpx.Request], httpx.Response], **kwargs: Any) -> OpenAICompatible:
    return OpenAICompatible(
        "http://127.0.0.1:9/",
        "m",
        transport=httpx.MockTransport(handler),
        **kwargs,
    )


def _completion(text: str) -> dict[str, object]:
    return {"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}


def test_generate_sends_the_chat_completion_request() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=_completion("Bonjour"))

    backend = _backend(handler, api_key="k")
    assert backend.generate("salut", system="be brief", max_tokens=7) == "Bonjour"
    request = seen[0]
    assert request.url == "http://127.0.0.1:9/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer k"
    body = json.loads(request.content)
    assert body["messages"] == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "salut"},
    ]
    assert body["max_tokens"] == 7
    assert body["stream"] is False


def test_stream_parses_server_sent_events() -> None:
    events = [
        {"choices": [{"delta": {"role": "assistant"}}]},
        {"choices": [{"delta": {"content": "Hel"}}]},
        {"choices": [{"delta": {"content": "lo"}}]},
        {"choices": []},
    ]
    body = ": keep-alive\n\n" + "".join(f"data: {json.dumps(e)}\n\n" for e in events)
    body += "data: [DONE]\n\n"

    def handler(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream"] is True
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})

    assert list(_backend(handler).stream("hi")) == ["Hel", "lo"]


@pytest.mark.parametrize(
    ("response", "status"),
    [
        (httpx.Response(500, text="boom"), 500),
        (httpx.Response(422, json={"detail": "bad"}), 422),
        (httpx.Response(200, text="not json"), 502),
        (httpx.Response(200, json=[1, 2]), 502),
        (httpx.Response(200, json={"choices": []}), 502),
        (httpx.Response(200, json={"choices": [{"message": {"content": 5}}]}), 502),
        (httpx.Response(200, content=b"x" * (MAX_RESPONSE_BYTES + 1)), 502),
    ],
)
def test_bad_replies_become_remote_errors(response: httpx.Response, status: int) -> None:
    backend = _backend(lambda request: response)
    with pytest.raises(RemoteError) as info:
        backend.generate("secret text")
    assert info.value.status == status
    assert "secret" not in str(info.value)


def test_malformed_stream_event() -> None:
    backend = _backend(lambda r: httpx.Response(200, text="data: {not json}\n\n"))
    with pytest.raises(RemoteError):
        list(backend.stream("hi"))


def test_unreachable_and_timeout() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    with pytest.raises(RemoteError) as info:
        _backend(refuse).generate("hi")
    assert info.value.status == 502
    with pytest.raises(RemoteError) as info:
        _backend(slow).generate("hi")
    assert info.value.status == 504


def test_server_embeddings_are_normalised_and_ordered() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1/embeddings"
        data = [{"index": 1, "embedding": [0.0, 2.0]}, {"index": 0, "embedding": [3.0, 4.0]}]
        return httpx.Response(200, json={"data": data})

    vectors = _backend(handler, embedding_model="e").embed(["a", "b"])
    np.testing.assert_allclose(vectors, [[0.6, 0.8], [0.0, 1.0]], atol=1e-6)


def test_configuration_is_checked() -> None:
    with pytest.raises(ConfigError):
        OpenAICompatible("ftp://x", "m")
    with pytest.raises(ConfigError):
        OpenAICompatible("http://x", "")
    backend = OpenAICompatible("http://127.0.0.1:9/v1", "m")
    assert backend.base_url == "http://127.0.0.1:9/v1"
    with pytest.raises(MisuseError):
        backend.generate("hi", max_tokens=0)
    backend.close()


def test_a_forked_childs_pool_reuses_the_tls_context_built_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each request child makes its own connection pool; loading the CA bundle for each
    cost about 30 ms a request, so the context is built once, in the parent."""
    backend = OpenAICompatible("https://127.0.0.1:9/", "m")
    first = backend._client

    def no_second_load(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a CA bundle was loaded again for a new pool")

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", no_second_load)
    monkeypatch.setattr(backend, "_pid", -1)  # as in a forked child: another process
    second = backend._client
    assert second is not first
    assert backend._tls.verify_mode == ssl.CERT_REQUIRED  # https stays verified
    first.close()
    second.close()
