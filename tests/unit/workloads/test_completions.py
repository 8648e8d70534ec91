"""Private chat completions: the request's checks and the answer's shape."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from privproc.enclave.features import run_feature
from privproc.errors import DecodeError, UnsupportedError
from privproc.workloads.backend import Completion
from privproc.workloads.completions import (
    MAX_CHAT_CHARS,
    MAX_MESSAGES,
    complete_chat,
    parse_chat_request,
)
from privproc.workloads.minilm import MiniLM

CANARY = "CANARY-chat-71c0"
USER = [{"role": "user", "content": f"hello {CANARY}"}]


class _Echo:
    """Answers with the last message's length; records what it was asked."""

    name = "echo"

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return np.full((len(texts), 4), 0.5, dtype=np.float32)

    def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Completion:
        self.asked.append({"n": len(messages), "max": max_tokens, "t": temperature, "stop": stop})
        return Completion(f"{len(messages[-1]['content'])} chars", "length", 3, 4)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "root", "content": CANARY}]}, "role"),
        ({"messages": [{"role": "user", "content": 5}]}, "content"),
        ({"messages": ["x"]}, "object"),
        ({"messages": USER * (MAX_MESSAGES + 1)}, "messages"),
        ({"messages": [{"role": "user", "content": "x" * (MAX_CHAT_CHARS + 1)}]}, "characters"),
        ({"messages": USER, "max_tokens": 0}, "max_tokens"),
        ({"messages": USER, "max_tokens": True}, "max_tokens"),
        ({"messages": USER, "temperature": 3}, "temperature"),
        ({"messages": USER, "stop": ["a"] * 5}, "stop"),
        ({"messages": USER, "stop": [""]}, "stop"),
        ({"messages": USER, "stream": "yes"}, "stream"),
    ],
)
def test_bad_requests_name_the_field_never_the_content(body: dict[str, Any], field: str) -> None:
    with pytest.raises(DecodeError) as info:
        parse_chat_request(body)
    assert field in str(info.value)
    assert CANARY not in str(info.value)


def test_defaults_and_stop_as_one_string() -> None:
    req = parse_chat_request({"messages": USER, "stop": "\n", "max_tokens": None})
    assert (req.max_tokens, req.temperature, req.stop, req.stream) == (256, 0.0, ("\n",), False)
    assert CANARY not in repr(req)


def test_answer_is_a_chat_completion_object() -> None:
    model = _Echo()
    req = parse_chat_request({"messages": USER, "max_tokens": 12, "temperature": 0.5})
    out = complete_chat(req, model)
    assert out["object"] == "chat.completion"
    assert out["choices"][0]["message"] == {"role": "assistant", "content": "22 chars"}
    assert out["choices"][0]["finish_reason"] == "length"
    assert out["usage"] == {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}
    assert model.asked == [{"n": 1, "max": 12, "t": 0.5, "stop": ()}]
    assert out["id"] != complete_chat(req, model)["id"]


def test_a_backend_that_cannot_write_refuses(minilm: MiniLM) -> None:
    with pytest.raises(UnsupportedError) as info:
        complete_chat(parse_chat_request({"messages": USER}), minilm)
    assert "workloads.no_generator" in str(info.value)


def test_node_feature_chat_answers_and_refuses_as_problems(minilm: MiniLM) -> None:
    payload = json.dumps({"feature": "chat", "messages": USER}).encode()
    ok = json.loads(run_feature(payload, _Echo()))
    assert ok["completion"]["choices"][0]["message"]["content"] == "22 chars"
    refused = json.loads(run_feature(payload, minilm))
    assert refused["error"]["status"] == 422
    bad = json.loads(run_feature(json.dumps({"feature": "chat"}).encode(), _Echo()))
    assert bad["error"]["status"] == 400
    assert CANARY not in json.dumps(refused) + json.dumps(bad)
