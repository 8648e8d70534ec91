"""The private path end to end in one process (tests/_harness.py): real apps, no sockets.

The same request flow as tests/system/test_e2e.py (device -> relay -> gateway -> a
node's fresh child -> back) with the refusals that need live parties: a replayed
token, a gateway that misroutes, a relay that alters bytes, what the relay and the
gateway see, and the canary in logs, metrics and error bodies. It runs in
``make check``; the real-socket system tests keep the process boundaries honest.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import httpx
import pytest

from privproc.errors import LedgerError, OpenError, PolicyError, RemoteError, ReplayError
from privproc.workloads import Backend, load_default_backend
from privproc.workloads.chat import Chat
from tests._harness import CLIENT_ADDRESS, Harness

CANARY = "CANARY-in-memory-9d2f-do-not-leak"
CHAT = {
    "chat": "Book club",
    "language": "en",
    "ai_blocked": False,
    "messages": [
        {
            "sender": "Ana",
            "time": "2026-11-20T17:00:00Z",
            "unread": False,
            "text": "Next meeting is on Thursday.",
        },
        {
            "sender": "Ben",
            "time": "2026-11-20T17:02:00Z",
            "unread": True,
            "text": f"I finished the novel, the ending was great. {CANARY}",
        },
        {
            "sender": "Cleo",
            "time": "2026-11-20T17:05:00Z",
            "unread": True,
            "text": "Can we move it to Friday at 8? I have a late shift Thursday.",
        },
    ],
}

Onward = Callable[[httpx.Request], Awaitable[httpx.Response]]


@pytest.fixture(scope="module")
def backend() -> Backend:
    return load_default_backend()


@pytest.fixture
def path(tmp_path: Path, backend: Backend) -> Iterator[Harness]:
    harness = Harness(tmp_path, backend)
    try:
        yield harness
    finally:
        harness.close()


def test_happy_path_summary_and_rewrite_through_every_party(path: Harness) -> None:
    with path.device() as device:
        answer = device.summarize(Chat.from_json(CHAT))
        summary = answer.result["summary"]
        assert summary["unread"] == 2
        assert "Friday" in summary["text"]
        assert "Next meeting is on Thursday." not in summary["text"]
        named = {n["node"] for n in answer.report.named}
        assert len(named) == 2
        assert answer.report.answered_by in named
        rewrites = device.rewrite("hey can u send me the notes tmrw", ["professional"])
        assert set(rewrites.result["rewrites"]["rewrites"]) == {"professional"}


def test_summary_points_carry_their_source_message_indices(path: Harness) -> None:
    """Issue 14: each point of the answer names the chat messages it came from (what
    ``privproc summarize --json`` prints under details.points), so the device can show them."""
    with path.device() as device:
        summary = device.summarize(Chat.from_json(CHAT)).result["summary"]
    points = summary["points"]
    assert points
    for point in points:
        assert set(point) == {"sender", "text", "message", "messages", "kind"}
        assert point["message"] in point["messages"]
        assert all(CHAT["messages"][i]["unread"] for i in point["messages"])  # type: ignore[index]
    friday = next(p for p in points if "Friday" in p["text"])
    assert friday["messages"] == [2]
    assert friday["sender"] == "Cleo"


def test_rewrite_for_an_ai_blocked_chat_is_refused_before_anything_is_sent(path: Harness) -> None:
    sent: list[bytes] = []

    async def record(request: httpx.Request, onward: Onward) -> httpx.Response:
        sent.append(request.content)
        return await onward(request)

    path.relay_to(record)
    blocked = Chat.from_json({**CHAT, "ai_blocked": True})
    with path.device() as device, pytest.raises(PolicyError) as info:
        device.rewrite("can u send me the notes tmrw", ["professional"], chat=blocked)
    assert info.value.check == "client.ai_blocked"
    assert sent == []
    with path.device() as device:  # the same draft for an open chat goes through
        answer = device.rewrite(
            "can u send me the notes", ["professional"], chat=Chat.from_json(CHAT)
        )
    assert sent
    assert "professional" in answer.result["rewrites"]["rewrites"]


def test_ai_blocked_chat_is_refused_before_anything_is_sent(path: Harness) -> None:
    sent: list[bytes] = []

    async def record(request: httpx.Request, onward: Onward) -> httpx.Response:
        sent.append(request.content)
        return await onward(request)

    path.relay_to(record)
    with path.device() as device, pytest.raises(PolicyError) as info:
        device.summarize(Chat.from_json({**CHAT, "ai_blocked": True}))
    assert info.value.check == "client.ai_blocked"
    assert sent == []


def test_token_replay_is_refused_by_the_gateway(path: Harness) -> None:
    with path.device() as device:
        token = device.tokens.take()

        class Same:
            def take(self) -> str:
                return token

        device.tokens.close()  # type: ignore[attr-defined]
        device.tokens = Same()
        device.rewrite("first use", ["friendly"])
        with pytest.raises(ReplayError):
            device.rewrite("second use", ["friendly"])


def test_gateway_routing_to_a_node_not_named(path: Harness) -> None:
    # The directory lists node-1 and node-2 (K = 2 names both); the operator's gateway
    # sends every request to node-3, which holds no key the request is sealed to.
    path.listed = {"node-1", "node-2"}
    for node in path.nodes:
        path.node_map.learn(node.ring.current().key_id, "http://node-3")
    with path.device() as device, pytest.raises(RemoteError) as info:
        device.summarize(Chat.from_json(CHAT))
    assert info.value.problem in {"unknown-key", "open-failed"}


def test_relay_that_alters_bytes_is_detected(path: Harness) -> None:
    async def flip(request: httpx.Request, onward: Onward) -> httpx.Response:
        body = bytearray(request.content)
        body[len(body) // 2] ^= 0x01
        return await onward(
            httpx.Request(request.method, request.url, headers=request.headers, content=bytes(body))
        )

    path.relay_to(flip)
    with path.device() as device, pytest.raises((RemoteError, OpenError)):
        device.summarize(Chat.from_json(CHAT))


def test_relay_sees_only_ciphertext_and_gateway_never_the_client_address(path: Harness) -> None:
    seen: list[httpx.Request] = []

    async def record(request: httpx.Request, onward: Onward) -> httpx.Response:
        seen.append(request)
        return await onward(request)

    path.relay_to(record)
    with path.device() as device:
        device.summarize(Chat.from_json(CHAT))
    assert seen
    for request in seen:
        assert CLIENT_ADDRESS[0] not in str(request.headers)
        assert {k.lower() for k in request.headers} <= {"content-type", "content-length", "host"}
        assert CANARY.encode() not in request.content
        assert b"Friday" not in request.content
        assert request.content[0] == path.world.gateway.config.key_id  # OHTTP bytes, not JSON


def test_key_config_the_ledger_does_not_make_current_is_refused(path: Harness) -> None:
    from privproc import ohttp

    path.world.served = [ohttp.ServerKey.derive(9, b"q" * 32).config]
    with path.device() as device, pytest.raises(LedgerError) as info:
        device.summarize(Chat.from_json(CHAT))
    assert info.value.check == "keyconfig.consistency"


def test_canary_reaches_no_log_no_metric_and_no_error_response(
    path: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with path.device() as device:
        device.summarize(Chat.from_json(CHAT))
    assert CANARY not in caplog.text
    network = path.network()
    metrics = network.get("http://gateway/metrics")
    assert "privproc" in metrics.text
    assert CANARY not in metrics.text
    payload = (b"\x01\x00\x20" + CANARY.encode()) * 4
    probes = {
        "relay": ("/", "message/ohttp-req"),
        "gateway": ("/gateway", "message/ohttp-req"),
        "node-1": ("/process", "application/octet-stream"),
        "issuer": ("/token-request", "application/private-token-request"),
    }
    for host, (route, media) in probes.items():
        for content_type in (media, "text/plain"):
            answer = network.post(
                f"http://{host}{route}", content=payload, headers={"content-type": content_type}
            )
            assert answer.status_code >= 400, (host, content_type, answer.status_code)
            assert CANARY.encode() not in answer.content, (host, content_type)
    assert CANARY not in caplog.text


def test_a_replica_lost_after_taking_the_request_costs_one_retry_with_a_fresh_token(
    path: Harness,
) -> None:
    """Issue 16: the gateway took the request (and spent its token), then the answer was
    lost (a replica killed mid-request: the relay answers 502). The device retries once,
    sealed afresh with a fresh token; the gateway accepts it (a replayed token would be
    refused as ``replay``)."""
    sent: list[bytes] = []

    async def lose_first(request: httpx.Request, onward: Onward) -> httpx.Response:
        sent.append(request.content)
        answer = await onward(request)
        if len(sent) == 1:
            return httpx.Response(502, text="replica lost")
        return answer

    path.relay_to(lose_first)
    with path.device() as device:
        answer = device.summarize(Chat.from_json(CHAT))
    assert len(sent) == 2
    assert sent[0] != sent[1]
    assert "Friday" in answer.result["summary"]["text"]


def test_the_device_retries_a_lost_hop_only_once(path: Harness) -> None:
    sent: list[bytes] = []

    async def always_lost(request: httpx.Request, onward: Onward) -> httpx.Response:
        del onward
        sent.append(request.content)
        return httpx.Response(503, text="no replica")

    path.relay_to(always_lost)
    with path.device() as device, pytest.raises(RemoteError) as info:
        device.summarize(Chat.from_json(CHAT))
    assert info.value.status == 502  # the relay passes on no body but a problem's
    assert len(sent) == 2
