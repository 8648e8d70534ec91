"""Streamed answers over real sockets: device -> relay -> gateway -> node -> model server.

Separate processes on loopback (privproc.cluster.launch, as ``privproc up`` runs them):
the nodes' model is an OpenAI-compatible server run by this test (``--inference-url``),
a real HTTP server on a real socket that writes the first token, then waits until the
test's device has shown it, then writes the rest. So the device's first words provably
arrive before the model wrote its last: asserted by order, never by a time. The same
for a summary (each line shown once it passed its checks, while the model writes the
next), ``privproc summarize --stream --json`` (JSON lines) and the OpenAI SDK's
``stream=True``; and the canary is in no party's file afterwards.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import openai
import pytest

from privproc.client.session import open_device
from privproc.cluster.launch import Cluster, ClusterSpec
from privproc.openai import private_http_client
from privproc.workloads import Chat
from tests.system._procs import FAMILY_CHAT, cli

pytestmark = pytest.mark.system

CANARY = "CANARY-stream-71c3-do-not-leak"
REST = [" from", " a", " real", " socket"]
#: The summary the model server streams for FAMILY_CHAT ([1] Ana, [2] Ben), line by line.
SUMMARY = ["- Ana: dinner is at 7 on Saturday [1].\n", "- Ben will bring an apple pie [2].\n"]
#: Stops a broken (buffering) path from hanging the test; the text then says so.
_GUARD = 60.0


class _Model(BaseHTTPRequestHandler):
    """``POST /v1/chat/completions`` as an OpenAI-compatible server streams it (SSE)."""

    release: threading.Event
    seen: list[str]

    def log_message(self, *_args: object) -> None:  # no request lines on stderr
        return

    def _event(self, delta: dict[str, str], finish: str | None = None) -> None:
        chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        self.wfile.flush()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.seen.append(body["messages"][-1]["content"])
        if not body.get("stream"):  # the features' own generate() calls (a summary's)
            reply = {
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "- Ben: I will bring a pie."},
                        "finish_reason": "stop",
                    }
                ]
            }
            data = json.dumps(reply).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        if body["messages"][0]["content"].startswith("You summarize"):
            self._summary()
            return
        self._event({"role": "assistant", "content": "Hello"})
        if not self.release.wait(_GUARD):
            self._event({"content": " [the device never saw the first token]"})
        for token in REST:
            self._event({"content": token})
        self._end()

    def _summary(self) -> None:
        """A summary's stream: its first line, then (once the device showed it) the rest."""
        self._event({"role": "assistant", "content": SUMMARY[0]})
        if not self.release.wait(_GUARD):
            self._event({"content": "- Ben: the device never saw the first line [2].\n"})
        for line in SUMMARY[1:]:
            self._event({"content": line})
        self._end()

    def _end(self) -> None:
        self._event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


@dataclass
class World:
    cluster: Cluster
    home: Path
    release: threading.Event
    seen: list[str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("streaming")
    release, seen = threading.Event(), list[str]()
    handler = type("Model", (_Model,), {"release": release, "seen": seen})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    model = root / "served-model.gguf"  # the file the server "loads": measured, named
    model.write_bytes(b"GGUF stand-in for the test's scripted model server")
    home = root / "home"
    url = f"http://127.0.0.1:{server.server_address[1]}"
    cluster = Cluster(home, ClusterSpec(nodes=2, k=2, model=model, inference_url=url))
    try:
        cluster.start()
        yield World(cluster, home, release, seen)
    finally:
        cluster.stop()
        server.shutdown()
        server.server_close()


def _text(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["chunk"]["choices"][0]["delta"].get("content", "") for e in events if "chunk" in e
    )


def test_the_first_token_arrives_before_the_model_writes_the_last(world: World) -> None:
    world.release.clear()
    with open_device(world.home / "client") as device:
        stream = device.stream_chat(
            {"messages": [{"role": "user", "content": f"Greet Ana. {CANARY}"}]}
        )
        events = iter(stream)
        first = next(events)
        assert not world.release.is_set()  # the model server is still waiting on us
        assert first["chunk"]["choices"][0]["delta"]["content"] == "Hello"
        world.release.set()
        rest = list(events)
    assert _text([first, *rest]) == "Hello from a real socket"
    assert stream.result is not None
    assert stream.report is not None
    assert stream.report.answered_by in {n["node"] for n in stream.report.named}
    assert world.seen[-1] == f"Greet Ana. {CANARY}"  # the node's child did ask the model


def test_the_openai_sdk_stream_arrives_in_pieces(world: World) -> None:
    world.release.clear()
    client = openai.OpenAI(
        api_key="unused",
        base_url="https://private.invalid/v1",
        http_client=private_http_client(world.home / "client"),
        max_retries=0,
    )
    with client:
        stream = client.chat.completions.create(
            model="local", messages=[{"role": "user", "content": "Hi"}], stream=True
        )
        chunks = iter(stream)
        first = next(chunks)
        assert not world.release.is_set()
        world.release.set()
        rest = list(chunks)
    assert first.choices[0].delta.content == "Hello"
    assert len(rest) == len(REST) + 1  # each token its own chunk, then the finish reason
    assert "".join(c.choices[0].delta.content or "" for c in rest) == "".join(REST)
    assert rest[-1].choices[0].finish_reason == "stop"


def test_a_summary_first_line_arrives_before_the_model_writes_its_last(world: World) -> None:
    world.release.clear()
    with open_device(world.home / "client") as device:
        stream = device.stream_summarize(Chat.from_json(FAMILY_CHAT))
        events = iter(stream)
        first = next(events)
        assert not world.release.is_set()  # the model server is still waiting on us
        assert first == {"delta": "- Ana: dinner is at 7 on Saturday."}
        world.release.set()
        rest = list(events)
    assert stream.result is not None
    assert stream.result["summary"]["method"] == "abstractive"
    assert stream.result["summary"]["text"] == (
        "- Ana: dinner is at 7 on Saturday.\n- Ben will bring an apple pie."
    )
    assert rest[-1] == {"done": stream.result}


def test_summarize_stream_json_prints_json_lines(world: World, tmp_path: Path) -> None:
    world.release.set()
    chat = tmp_path / "chat.json"
    chat.write_text(json.dumps(FAMILY_CHAT), encoding="utf-8")
    out = cli(["summarize", "--chat", str(chat), "--stream", "--json"], world.home)
    assert out.returncode == 0, out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(lines) >= 2
    assert all("delta" in line for line in lines[:-1])
    assert lines[-1]["summary"] == "".join(line["delta"] for line in lines[:-1])
    assert lines[-1]["report"]["feature"] == "summarize"
    text = cli(
        ["rewrite", "--draft", "pls send notes", "--tone", "friendly", "--stream"], world.home
    )
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("friendly: ")


def test_the_canary_is_in_no_party_file(world: World) -> None:
    world.release.set()
    with open_device(world.home / "client") as device:
        list(device.stream_chat({"messages": [{"role": "user", "content": CANARY}]}))
    leaked = [p for p in world.home.rglob("*") if p.is_file() and CANARY.encode() in p.read_bytes()]
    assert leaked == []
