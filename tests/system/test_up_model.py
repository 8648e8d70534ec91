"""``privproc up --model FILE.gguf``: nodes serve a generative model through the private path.

Two nodes each start their own llama.cpp server (privproc.inference.llama_server) on
SmolLM2-135M; the release record names the GGUF's SHA-256, the device's trail checks it
(``release.model``) and its report carries it; the draft (a canary) is in no file of any
party afterwards. Skipped, saying why, when llama-cpp-python is not installed.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from privproc.openai import private_http_client
from tests.interop._llama import PYTHON, smollm2_model
from tests.system._procs import cli, env, start_up, up_endpoints

pytestmark = [pytest.mark.system, pytest.mark.slow]

CANARY = "CANARYq9z"


def test_up_with_a_model_names_it_in_trail_and_report(tmp_path: Path) -> None:
    model = smollm2_model()
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    home = tmp_path / "home"
    up = start_up(home, "--nodes", "2", "--model", str(model), "--llama-python", PYTHON)
    try:
        endpoints = up_endpoints(up)
        assert endpoints["release"]["model_digest"] == digest
        draft = f"hey {CANARY} im running late tmrw, can u wait 10 min pls"
        rewrite = cli(
            ["rewrite", "--draft", draft, "--tone", "professional", "--json"], home, timeout=300
        )
        assert rewrite.returncode == 0, rewrite.stderr
        out = json.loads(rewrite.stdout)
        assert out["report"]["model_digest"] == digest
        assert "generated" in out["rewrites"]["method"]
        verify = cli(["verify", "--json"], home, timeout=300)
        assert verify.returncode == 0, verify.stderr
        trail = json.loads(verify.stdout)["trail"]
        model_steps = [s for s in trail if s["check"] == "release.model"]
        assert len(model_steps) == 2
        assert all(s["ok"] and digest[:16] in s["detail"] for s in model_steps)
        _openai_sdk_through_the_path(home)
    finally:
        os.killpg(up.pid, signal.SIGINT)
        up.communicate(timeout=60)
    assert up.returncode == 0
    leaked = [p for p in home.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()]
    assert leaked == []


def _openai_sdk_through_the_path(home: Path) -> None:
    """The real ``openai`` SDK, its transport the private path (privproc.openai)."""
    client = openai.OpenAI(
        api_key="unused",
        base_url="https://private.invalid/v1",
        http_client=private_http_client(home / "client"),
        max_retries=0,
    )
    with client:
        messages: list[ChatCompletionMessageParam] = [
            {"role": "user", "content": f"Say hello to Ana. {CANARY}"}
        ]
        reply = client.chat.completions.create(model="local", messages=messages, max_tokens=12)
        assert reply.choices[0].message.content
        assert reply.usage is not None
        assert 0 < reply.usage.completion_tokens <= 12
        stream = client.chat.completions.create(
            model="local", messages=messages, max_tokens=12, stream=True
        )
        chunks = list(stream)
        # Streamed for real (docs/streaming.md): the model's tokens arrive as many chunks.
        assert len([c for c in chunks if c.choices[0].delta.content]) > 1
        assert "".join(c.choices[0].delta.content or "" for c in chunks).strip()
    reports = (home / "client" / "reports.jsonl").read_text().splitlines()
    features = [json.loads(line)["feature"] for line in reports]
    assert features[-2:] == ["chat", "chat"]


def test_up_with_a_missing_model_file_says_so(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "privproc", "up", "--model", str(tmp_path / "absent.gguf")],
        env=env(PRIVPROC_HOME=str(tmp_path / "home")),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode != 0
    assert "absent.gguf" in out.stdout + out.stderr
    assert "Traceback" not in out.stdout + out.stderr
