"""Streamed answers through every party in memory (tests/_harness.py; docs/streaming.md).

The device asks for a stream; the node's fresh child seals each event as the backend
writes it; the gateway and the relay pass the chunks on as they come; the device opens
each frame. What is asserted is the order of arrival (the backend cannot write its
second token before the device has shown the first), never a time; that a hostile
operator (between gateway and node) cutting, reordering or splicing frames is refused
with a named error; that nothing is held whole on the way; and that the canary reaches
no log, for streamed requests too.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
import pytest

from privproc import limits
from privproc.errors import OpenError, RemoteError, TruncatedError
from privproc.workloads import Backend, load_default_backend
from privproc.workloads.backend import Completion
from privproc.workloads.chat import Chat
from tests import _harness
from tests._harness import Harness
from tests.e2e.test_private_path_inmemory import CANARY, CHAT, Onward

_FORK = multiprocessing.get_context("fork")
#: The guard that stops a broken (buffering) path from hanging the test: the backend
#: stops waiting, and says so in its text, which the test then sees. Not an assertion.
_GUARD = 60.0


class Scripted:
    """A chat model whose stream is scripted: ``first``, then (after the device said it
    saw it: ``release``) the rest, each token its own delta. Its text can carry the pid
    of the process that wrote it (the request's child)."""

    def __init__(self, embedded: Backend, release: Any, rest: Sequence[str]) -> None:
        self.name = "scripted"
        self._embedded, self.release, self.rest = embedded, release, list(rest)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._embedded.embed(texts)

    def complete_stream(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Iterator[str | Completion]:
        del max_tokens, temperature, stop
        first = f"pid={os.getpid()} {messages[-1]['content']}"
        yield first
        if messages[-1]["content"].startswith("crash"):
            os._exit(3)  # the request's child dies mid-answer
        if messages[-1]["content"].startswith("wait") and not self.release.wait(_GUARD):
            yield " [the device never saw the first token]"
            return
        yield from self.rest
        yield Completion(first + "".join(self.rest), "stop", 3, 1 + len(self.rest))


class ScriptedSummary:
    """A model that writes a summary line by line (``TextStreamer``): its first line, then
    (after the device said it saw it: ``release``) the rest."""

    def __init__(self, embedded: Backend, release: Any, lines: Sequence[str]) -> None:
        self.name = "scripted-summary"
        self._embedded, self.release, self.lines = embedded, release, list(lines)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._embedded.embed(texts)

    def generate(
        self, prompt: str, *, system: str = "", max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        return "".join(self.lines)

    def stream(
        self, prompt: str, *, system: str = "", max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        yield self.lines[0]
        if not self.release.wait(_GUARD):
            yield "- Ben: the device never saw the first line [1].\n"
            return
        yield from self.lines[1:]


#: Lines a model may write about CHAT's unread messages ([1] Ben, [2] Cleo), and one that
#: names someone who is not in them.
BEN = "- Ben finished the novel [1].\n"
CLEO = "- Cleo asks to move it to Friday at 8 [2].\n"
MARCO = "- Cleo asks Marco to move it to Friday [2].\n"


@pytest.fixture(scope="module")
def embedded() -> Backend:
    return load_default_backend()


@pytest.fixture
def release() -> Any:
    return _FORK.Event()


@pytest.fixture
def path(tmp_path: Path, embedded: Backend, release: Any) -> Iterator[Harness]:
    harness = Harness(tmp_path, Scripted(embedded, release, [" private", " streamed", " words"]))
    try:
        yield harness
    finally:
        harness.close()


def _text(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["chunk"]["choices"][0]["delta"].get("content", "") for e in events if "chunk" in e
    )


def _ask(content: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": content}], "max_tokens": 64}


def test_first_words_arrive_before_the_last_are_written(path: Harness, release: Any) -> None:
    with path.device() as device:
        stream = device.stream_chat(_ask("wait for me"))
        events = iter(stream)
        first = next(events)
        # The node's child is blocked inside the model: its last token is not written yet.
        assert not release.is_set()
        assert first["chunk"]["choices"][0]["delta"]["role"] == "assistant"
        assert "wait for" in first["chunk"]["choices"][0]["delta"]["content"]
        release.set()
        rest = list(events)
    text = _text([first, *rest])
    assert text.endswith(" private streamed words"), text
    assert "never saw" not in text
    assert rest[-1] == {"done": stream.result}
    assert stream.result is not None
    assert stream.result["completion"]["choices"][0]["message"]["content"] == text
    assert rest[-2]["chunk"]["choices"][0]["finish_reason"] == "stop"
    assert stream.report is not None
    assert stream.report.feature == "chat"


def test_each_streamed_request_runs_in_its_own_fresh_child(path: Harness) -> None:
    pids = []
    with path.device() as device:
        for _ in range(2):
            stream = device.stream_chat(_ask("hello"))
            events = list(stream)
            pids.append(int(_text(events).split()[0].removeprefix("pid=")))
    assert len(set(pids)) == 2
    assert os.getpid() not in pids
    live = {pid for node in path.nodes for pool in node.pools.values() for pid in pool.pids()}
    assert not set(pids) & live  # each child exited with its answer


def test_summary_and_rewrites_stream_and_match_the_whole_answer(
    tmp_path: Path, embedded: Backend
) -> None:
    with _harness.harness(tmp_path, embedded) as path, path.device() as device:
        stream = device.stream_summarize(Chat.from_json(CHAT))
        events = list(stream)
        assert stream.result is not None
        whole = stream.result["summary"]["text"]
        assert "".join(e["delta"] for e in events if "delta" in e) == whole
        assert "Friday" in whole
        rewrites = device.stream_rewrite(
            "hey can u send me the notes", ["professional", "friendly"]
        )
        tones = [e["tone"] for e in rewrites if "delta" in e]
        assert tones == ["professional", "friendly"]
        assert rewrites.result is not None
        assert set(rewrites.result["rewrites"]["rewrites"]) == {"professional", "friendly"}


def test_a_summary_first_line_arrives_before_the_model_writes_its_last(
    tmp_path: Path, embedded: Backend, release: Any
) -> None:
    harness = Harness(tmp_path, ScriptedSummary(embedded, release, [BEN, CLEO]))
    try:
        with harness.device() as device:
            stream = device.stream_summarize(Chat.from_json(CHAT))
            events = iter(stream)
            first = next(events)
            # The node's child is blocked inside the model: its last line is not written.
            assert not release.is_set()
            assert first == {"delta": "- Ben finished the novel."}
            release.set()
            rest = list(events)
    finally:
        harness.close()
    assert stream.result is not None
    summary = stream.result["summary"]
    assert summary["method"] == "abstractive"
    assert summary["text"] == "".join(e["delta"] for e in [first, *rest] if "delta" in e)
    assert summary["text"] == "- Ben finished the novel.\n- Cleo asks to move it to Friday at 8."


def test_a_summary_line_refused_mid_stream_is_withdrawn_for_the_embedded_one(
    tmp_path: Path, embedded: Backend, release: Any
) -> None:
    release.set()
    harness = Harness(tmp_path, ScriptedSummary(embedded, release, [BEN, MARCO, CLEO]))
    try:
        with harness.device() as device:
            stream = device.stream_summarize(Chat.from_json(CHAT))
            events = list(stream)
    finally:
        harness.close()
    kinds = [next(iter(e)) for e in events]
    assert kinds[:2] == ["delta", "withdrawn"]
    assert events[1] == {"withdrawn": {"lines": 1, "why": "sentence 2: unsupported"}}
    assert not any("Marco" in e.get("delta", "") for e in events)
    assert stream.result is not None
    summary = stream.result["summary"]
    assert summary["method"] == "extractive (abstractive refused: sentence 2: unsupported)"
    assert summary["text"] == "".join(e["delta"] for e in events[2:] if "delta" in e)
    assert "Friday" in summary["text"]


def test_a_node_without_a_streaming_model_refuses_by_name(
    tmp_path: Path, embedded: Backend
) -> None:
    with (
        _harness.harness(tmp_path, embedded) as path,
        path.device() as device,
        pytest.raises(RemoteError, match="422, unsupported"),
    ):
        list(device.stream_chat(_ask("hello")))


HEADER, FRAME = limits.SEALED_STREAM_HEADER, limits.STREAM_FRAME


class _Operator(httpx.AsyncBaseTransport):
    """A hostile operator between the gateway and the nodes: it rewrites the sealed
    stream each node sends (then the gateway seals it into a well-formed chunked OHTTP
    response, so only the sealed layer can notice)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, change: str, kept: list[bytes]) -> None:
        self.inner, self.change, self.kept = inner, change, kept

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.inner.handle_async_request(request)
        body = await answer.aread()
        head, frames = body[:HEADER], [body[i : i + FRAME] for i in range(HEADER, len(body), FRAME)]
        if self.change == "truncate":
            body = head + b"".join(frames[:-1])
        elif self.change == "reorder":
            body = head + b"".join([frames[1], frames[0], *frames[2:]])
        elif self.change == "splice":  # the first answer's frames for every later request
            self.kept.append(body)
            body = self.kept[0]
        return httpx.Response(answer.status_code, headers=answer.headers, content=body)


@pytest.mark.parametrize(
    ("change", "error"),
    [("truncate", TruncatedError), ("reorder", OpenError), ("splice", OpenError)],
)
def test_the_device_refuses_a_stream_an_operator_changed(
    path: Harness, change: str, error: type[Exception]
) -> None:
    kept: list[bytes] = []
    hosts = path._hosts.apps
    for spec in path.world.nodes:
        hosts[spec.name] = _Operator(hosts[spec.name], change, kept)
    with path.device() as device:
        if change == "splice":
            list(device.stream_chat(_ask("first")))  # the operator keeps this one
        stream = device.stream_chat(_ask("hello"))
        shown: list[dict[str, Any]] = []
        with pytest.raises(error):
            shown.extend(stream)
        assert stream.result is None
        assert stream.report is None
        assert not any("done" in e for e in shown)


def test_no_hop_holds_a_long_answer_whole(tmp_path: Path, embedded: Backend) -> None:
    """A long answer (thousands of frames) reaches the device in many reads, none over
    one node read (64 KiB) plus framing: relay and gateway pass it on as it comes."""
    long = Scripted(embedded, _FORK.Event(), [f" token-{i:05d}" for i in range(3000)])
    with _harness.harness(tmp_path, long) as path, path.device() as device:
        _harness.READS.clear()
        stream = device.stream_chat({**_ask("hello"), "max_tokens": 1024})
        events = list(stream)
    total = sum(_harness.READS)
    assert len(_text(events)) > 3000 * 10
    assert total > 3000 * FRAME  # one frame per token at least
    assert max(_harness.READS) <= (1 << 16) + 4 * limits.STREAM_CHUNK_OVERHEAD + HEADER
    assert len(_harness.READS) > total // (1 << 16)


def test_the_canary_reaches_no_log_in_a_streamed_request(
    path: Harness, release: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    release.set()
    with path.device() as device:
        events = list(device.stream_chat(_ask(f"wait {CANARY}")))
        summary = list(device.stream_summarize(Chat.from_json(CHAT)))
    assert CANARY in _text(events)  # the content did go through
    assert summary
    assert CANARY not in caplog.text
    assert CANARY[:8] not in caplog.text
    with path.network() as net:
        assert CANARY not in net.get("http://gateway/metrics").text


def test_the_openai_sdk_stream_arrives_in_pieces_in_order(path: Harness, release: Any) -> None:
    """``stream=True`` through the drop-in transport: the SDK's first chunk is out before
    the node's model wrote its second token."""
    import openai

    from privproc.openai import private_http_client

    client = openai.OpenAI(
        api_key="unused",
        base_url="https://private.invalid/v1",
        http_client=private_http_client(device=path.device()),
    )
    stream = client.chat.completions.create(
        model="local", messages=[{"role": "user", "content": "wait here"}], stream=True
    )
    chunks = iter(stream)
    first = next(chunks)
    assert not release.is_set()
    assert "wait here" in (first.choices[0].delta.content or "")
    release.set()
    rest = list(chunks)
    assert len(rest) >= 3
    text = "".join(c.choices[0].delta.content or "" for c in [first, *rest])
    assert text.endswith(" private streamed words")
    assert rest[-1].choices[0].finish_reason == "stop"


def test_a_child_that_dies_mid_stream_is_a_truncated_answer(path: Harness) -> None:
    with path.device() as device:
        stream = device.stream_chat(_ask("crash now"))
        shown: list[dict[str, Any]] = []
        with pytest.raises(TruncatedError):
            shown.extend(stream)
        assert stream.result is None
        assert not any("done" in e for e in shown)
        # The node goes on: the next streamed request gets a fresh child and its answer.
        again = device.stream_chat(_ask("hello"))
        events = list(again)
    assert again.result is not None
    assert events[-1] == {"done": again.result}


def test_a_stream_lost_before_its_first_event_is_retried_once_with_a_fresh_token(
    tmp_path: Path, embedded: Backend
) -> None:
    """Issue 16 with issue 15: a gateway replica lost before the stream began (the relay
    answers 502) costs one retry, sealed afresh with a fresh token, as a whole answer does."""
    sent: list[bytes] = []

    async def lose_first(request: httpx.Request, onward: Onward) -> httpx.Response:
        sent.append(await request.aread())
        if len(sent) == 1:
            await onward(request)  # the replica took the request (and spent its token)
            return httpx.Response(502, text="replica lost")
        return await onward(request)

    with _harness.harness(tmp_path, embedded) as path, path.device() as device:
        path.relay_to(lose_first)
        stream = device.stream_summarize(Chat.from_json(CHAT))
        list(stream)
        assert len(sent) == 2
        assert sent[0] != sent[1]
        assert stream.result is not None
        assert "Friday" in stream.result["summary"]["text"]

        async def always_lost(request: httpx.Request, onward: Onward) -> httpx.Response:
            del onward
            sent.append(await request.aread())
            return httpx.Response(503, text="no replica")

        sent.clear()
        path.relay_to(always_lost)
        with pytest.raises(RemoteError) as info:
            list(device.stream_summarize(Chat.from_json(CHAT)))
        assert info.value.status == 502  # the relay passes on no body but a problem's
        assert len(sent) == 2  # one retry only
