"""The OpenAI SDK (real ``openai`` package) through the private path, in memory.

``OpenAI(http_client=private_http_client(device=...))`` against every party of
tests/_harness.py: a chat completion and a streamed one answered by a node's model,
the report entry, and the refusals: a bad request checked on the device (nothing sent),
a node without a generative model (422), and a device that refuses the directory (the
SDK's connection error carries the failed check; nothing sent).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from privproc.client.report import read_reports
from privproc.openai import private_http_client
from privproc.workloads import Backend, load_default_backend
from privproc.workloads.backend import Completion
from tests._harness import Harness

CANARY = "CANARY-openai-5b1e-do-not-leak"
Onward = Callable[[httpx.Request], Awaitable[httpx.Response]]


class _Counting:
    """A chat model that answers with what it can count of the chat (no content)."""

    name = "counting"

    def __init__(self, embedder: Backend) -> None:
        self._embedder = embedder

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._embedder.embed(texts)

    def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Completion:
        text = f"{len(messages)} messages, the last from the {messages[-1]['role']}"
        return Completion(text, "stop", prompt_tokens=7 * len(messages), completion_tokens=9)


@pytest.fixture(scope="module")
def embedder() -> Backend:
    return load_default_backend()


_OPEN: list[openai.OpenAI] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()  # closes the http client, its transport and the device


@pytest.fixture
def path(tmp_path: Path, embedder: Backend) -> Iterator[Harness]:
    harness = Harness(tmp_path, _Counting(embedder))
    try:
        yield harness
    finally:
        harness.close()


def _client(path: Harness, **changes: Any) -> openai.OpenAI:
    http = private_http_client(device=path.device(**changes))
    client = openai.OpenAI(
        api_key="unused", base_url="https://private.invalid/v1", http_client=http, max_retries=0
    )
    _OPEN.append(client)
    return client


MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are brief."},
    {"role": "user", "content": f"Summarize: {CANARY}"},
]


def test_chat_completion_through_every_party(
    path: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = _client(path)
    home = path.root / "devices" / "alice"
    reply = client.chat.completions.create(model="local", messages=MESSAGES)
    assert reply.choices[0].message.content == "2 messages, the last from the user"
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage is not None
    assert reply.usage.total_tokens == 23
    assert reply.id.startswith("chatcmpl-")
    entries = read_reports(home)
    assert [e["feature"] for e in entries] == ["chat"]
    assert entries[0]["answered_by"] in {n["node"] for n in entries[0]["named"]}
    assert CANARY not in caplog.text


def test_streamed_chat_completion(path: Harness) -> None:
    client = _client(path)
    stream = client.chat.completions.create(
        model="local",
        messages=MESSAGES,
        stream=True,
    )
    deltas = [c.choices[0].delta.content or "" for c in stream]
    assert "".join(deltas) == "2 messages, the last from the user"


def test_bad_request_is_refused_on_the_device_and_nothing_is_sent(path: Harness) -> None:
    sent: list[bytes] = []

    async def record(request: httpx.Request, onward: Onward) -> httpx.Response:
        sent.append(request.content)
        return await onward(request)

    path.relay_to(record)
    client = _client(path)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model="local",
            messages=MESSAGES,
            temperature=5,
        )
    assert "temperature" in str(info.value)
    assert CANARY not in str(info.value)
    assert sent == []


def test_device_refusing_the_directory_surfaces_the_check(path: Harness) -> None:
    sent: list[bytes] = []

    async def record(request: httpx.Request, onward: Onward) -> httpx.Response:
        sent.append(request.content)
        return await onward(request)

    path.relay_to(record)
    client = _client(path, min_nodes=4)  # the harness runs 3 nodes
    with pytest.raises(openai.APIConnectionError) as info:
        client.chat.completions.create(model="local", messages=MESSAGES)
    assert "bundle.too_few_nodes" in str(info.value.__cause__)
    assert sent == []


def test_node_without_a_generative_model_answers_422(tmp_path: Path, embedder: Backend) -> None:
    harness = Harness(tmp_path, embedder)
    try:
        client = _client(harness)
        with pytest.raises(openai.UnprocessableEntityError) as info:
            client.chat.completions.create(model="local", messages=MESSAGES)
        assert CANARY not in str(info.value)
    finally:
        harness.close()


def test_other_routes_answer_404(path: Harness) -> None:
    client = _client(path)
    with pytest.raises(openai.NotFoundError):
        client.models.list()
