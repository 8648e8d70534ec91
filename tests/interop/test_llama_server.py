"""The node's own llama.cpp server (privproc.inference.llama_server) keeps nothing.

Started exactly as a node started with ``--model`` starts it
(:func:`privproc.enclave.generative.start_generative`), serving SmolLM2-135M. After
every request, answered, streamed or refused, ``/health`` shows an empty KV cache
(``kv_tokens`` 0, ``kv_pos_max`` -1) and one more clear; bad input gets a 4xx naming the
field, never the content; it refuses to bind a non-loopback address.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from privproc.enclave.generative import GenerativeModel, start_generative
from privproc.errors import ConfigError, RemoteError
from privproc.workloads.minilm import load_default_backend
from tests.interop._llama import PYTHON, smollm2_model

pytestmark = [pytest.mark.interop, pytest.mark.slow]

CANARY = "CANARY-7f3a-llama"
_SERVER = Path(__file__).resolve().parents[2] / "src" / "privproc" / "inference" / "llama_server.py"


@pytest.fixture(scope="module")
def model() -> Iterator[GenerativeModel]:
    gm = start_generative(
        model=smollm2_model(), embedder=load_default_backend(), python=PYTHON, threads=2
    )
    try:
        yield gm
    finally:
        gm.stop()


def _health(gm: GenerativeModel) -> dict[str, Any]:
    reply = httpx.get(gm.url + "/health", timeout=10)
    assert reply.status_code == 200
    body: dict[str, Any] = reply.json()
    return body


def _assert_cleared(gm: GenerativeModel, before: dict[str, Any]) -> dict[str, Any]:
    after = _health(gm)
    assert after["requests"] == before["requests"] + 1
    assert after["cleared"] == before["cleared"] + 1
    assert after["kv_tokens"] == 0
    assert after["kv_pos_max"] == -1
    return after


def test_answer_then_cache_is_empty(model: GenerativeModel) -> None:
    before = _health(model)
    assert before["kv_tokens"] == 0
    text = model.backend.generate(f"Say hello to Ana. {CANARY}", max_tokens=12)
    assert text.strip()
    _assert_cleared(model, before)


def test_chat_completion_with_stop_then_cache_is_empty(model: GenerativeModel) -> None:
    before = _health(model)
    answer = model.backend.complete(
        [{"role": "system", "content": "Answer in one word."}, {"role": "user", "content": "Hi"}],
        max_tokens=8,
        stop=["\n"],
    )
    assert answer.finish_reason in {"stop", "length"}
    assert "\n" not in answer.text
    assert 0 < answer.completion_tokens <= 8
    assert answer.prompt_tokens > 0
    _assert_cleared(model, before)


def test_stream_then_cache_is_empty(model: GenerativeModel) -> None:
    before = _health(model)
    pieces = list(model.backend.stream("Count to five.", max_tokens=12))
    assert len(pieces) >= 2  # token by token, not one block
    _assert_cleared(model, before)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"messages": [{"role": "root", "content": CANARY}]}, "messages"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "user", "content": CANARY}], "max_tokens": 0}, "max_tokens"),
        ({"messages": [{"role": "user", "content": CANARY}], "temperature": 9}, "temperature"),
        ({"messages": [{"role": "user", "content": CANARY}], "stop": [""]}, "stop"),
    ],
)
def test_bad_request_names_the_field_not_the_content(
    model: GenerativeModel, body: dict[str, Any], field: str
) -> None:
    before = _health(model)
    reply = httpx.post(model.url + "/v1/chat/completions", json=body, timeout=10)
    assert reply.status_code == 400
    assert field in reply.text
    assert CANARY not in reply.text
    _assert_cleared(model, before)


def test_not_json_and_oversized_are_refused(model: GenerativeModel) -> None:
    before = _health(model)
    reply = httpx.post(
        model.url + "/v1/chat/completions", content=b"{" + CANARY.encode(), timeout=10
    )
    assert reply.status_code == 400
    assert CANARY not in reply.text
    _assert_cleared(model, before)
    big = httpx.post(model.url + "/v1/chat/completions", content=bytes(2 << 20), timeout=10)
    assert big.status_code == 413
    assert httpx.get(model.url + "/nope", timeout=10).status_code == 404


def test_client_turns_a_refusal_into_a_remote_error(model: GenerativeModel) -> None:
    with pytest.raises(RemoteError) as info:
        model.backend.generate("hello", max_tokens=100_000)
    assert CANARY not in str(info.value)


def test_binds_loopback_only() -> None:
    out = subprocess.run(
        [PYTHON, str(_SERVER), "--model", "/nonexistent.gguf", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 2
    assert "loopback only" in out.stderr


def test_missing_model_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        start_generative(model=tmp_path / "absent.gguf", embedder=load_default_backend())
