"""The whole system as separate processes on loopback: the happy path and the refusals.

One cluster per module (ledger, 2 witnesses, issuer, 3 released nodes + 1 node
whose build is not in the ledger, gateway, directory, relay), plus test parties:
a relay whose gateway side is recorded (what the relay sends), a relay behind a
byte-flipping proxy, and a gateway that routes to nodes the device did not name.
"""

from __future__ import annotations

import dataclasses
import json
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.client.config import ClientConfig
from privproc.client.sdk import Device
from privproc.client.session import open_device
from privproc.cluster.launch import Cluster, ClusterSpec, Party
from privproc.errors import (
    AttestationError,
    ForkError,
    LedgerError,
    OpenError,
    PolicyError,
    RemoteError,
    ReplayError,
)
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.cosignature import Cosigner
from privproc.ledger.note import Note
from privproc.workloads.chat import Chat
from tests.system._procs import free_port, spawn, stop, wait_http

pytestmark = pytest.mark.system

CANARY = "CANARY-5c1e7a-do-not-leak"
CHAT = {
    "chat": "Book club",
    "language": "en",
    "ai_blocked": False,
    "messages": [
        {
            "sender": "Ana",
            "time": "2026-11-20T18:00:00Z",
            "unread": False,
            "text": "Next meeting is on Thursday.",
        },
        {
            "sender": "Ben",
            "time": "2026-11-20T18:02:00Z",
            "unread": True,
            "text": f"I finished the novel, the ending was great. {CANARY}",
        },
        {
            "sender": "Cleo",
            "time": "2026-11-20T18:05:00Z",
            "unread": True,
            "text": "Can we move it to Friday at 8? I have a late shift Thursday.",
        },
    ],
}


#: Folders of the test's extra devices (device state, not server parties).
DEVICES = {
    "far",
    "evil",
    "flip",
    "fork",
    "rogue",
    "stale",
    "quorum",
    "blocked",
    "debug",
    "swapped",
    "unrecorded",
}


@dataclass
class World:
    cluster: Cluster
    home: Path
    config: ClientConfig
    captured: Path
    extra: dict[str, Any]


def _device(world: World, name: str, **changes: Any) -> Device:
    home = world.home / name
    home.mkdir(exist_ok=True)
    local = changes.pop("_local", None)
    changes.setdefault("account", f"acct-{name}")
    config = dataclasses.replace(world.config, **changes)
    (home / "config.json").write_text(config.dumps())
    return open_device(home, local_address=local)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("e2e")
    home = root / "home"
    cluster = Cluster(home, ClusterSpec(nodes=3, rogue_nodes=1, debug_nodes=1, k=2))
    procs = []
    try:
        config = cluster.start()
        gateway = cluster.parties["gateway"]
        ledger = cluster.parties["ledger"]
        # A relay whose gateway side is recorded by a proxy in front of the gateway.
        captured = root / "captured"
        pport = free_port()
        procs.append(
            spawn(
                ["-m", "tests.system._recorder", "proxy", str(pport), str(captured), gateway.url],
                log=root / "proxy.log",
            )
        )
        wait_http(f"http://127.0.0.1:{pport}/healthz", procs[-1])
        for f in captured.glob("*"):
            f.unlink()
        extra: dict[str, Any] = {}
        extra["capture_relay"] = _relay(root, f"http://127.0.0.1:{pport}/gateway", procs)
        # A relay whose bytes are altered on the way to the gateway.
        fport = free_port()
        procs.append(
            spawn(
                [
                    "-m",
                    "tests.system._recorder",
                    "proxy",
                    str(fport),
                    str(root / "flip"),
                    gateway.url,
                    "flip",
                ],
                log=root / "flip.log",
            )
        )
        wait_http(f"http://127.0.0.1:{fport}/healthz", procs[-1])
        extra["flip_relay"] = _relay(root, f"http://127.0.0.1:{fport}/gateway", procs)
        # A gateway that routes to nodes the device did not name, with its own directory.
        eport = free_port()
        nodes = [p.url for n, p in cluster.parties.items() if n.startswith("enclave-")][:3]
        procs.append(
            spawn(
                [
                    "-m",
                    "tests.system._evil_gateway",
                    "misroute",
                    str(eport),
                    str(root / "evil"),
                    cluster.parties["issuer"].url,
                    ledger.url,
                    str(home / "ledger" / "token"),
                    str(home / "operator" / "publisher.key"),
                    str(home / "gateway" / "ohttp-keys.json"),
                    *nodes,
                ],
                log=root / "evil.log",
                PRIVPROC_HOME=str(home),
            )
        )
        evil_url = f"http://127.0.0.1:{eport}"
        wait_http(evil_url + "/healthz", procs[-1])
        evil_dir = cluster.extra_directory_for("directory-evil", evil_url, nodes)
        cluster.wait_bundle(evil_dir.url, 3)
        extra["evil_relay"] = _relay(root, evil_url + "/gateway", procs)
        extra["evil_directory"] = evil_dir.url
        extra["rogue_directory"] = cluster.extra_directory("directory-rogue", ["enclave-4"]).url
        extra["debug_directory"] = cluster.extra_directory("directory-debug", ["enclave-5"]).url
        # A node whose advertised key is not the one its hardware report binds.
        sport = free_port()
        procs.append(
            spawn(
                [
                    "-m",
                    "tests.system._recorder",
                    "proxy",
                    str(sport),
                    str(root / "swap"),
                    cluster.parties["enclave-2"].url,
                    "swapkey",
                ],
                log=root / "swap.log",
            )
        )
        wait_http(f"http://127.0.0.1:{sport}/healthz", procs[-1])
        extra["swapped_directory"] = cluster.extra_directory_for(
            "directory-swapped", gateway.url, [f"http://127.0.0.1:{sport}"]
        ).url
        # A gateway whose key configs are not in the ledger.
        uport = free_port()
        procs.append(
            spawn(
                [
                    "-m",
                    "tests.system._evil_gateway",
                    "unrecorded",
                    str(uport),
                    str(root / "unrecorded"),
                    cluster.parties["issuer"].url,
                    ledger.url,
                    str(home / "ledger" / "token"),
                    str(home / "operator" / "publisher.key"),
                    "-",
                    *nodes,
                ],
                log=root / "unrecorded.log",
                PRIVPROC_HOME=str(home),
            )
        )
        wait_http(f"http://127.0.0.1:{uport}/healthz", procs[-1])
        extra["unrecorded_directory"] = cluster.extra_directory_for(
            "directory-unrecorded", f"http://127.0.0.1:{uport}", nodes
        ).url
        yield World(cluster, home, config, captured, extra)
    finally:
        for p in procs:
            stop(p)
        cluster.stop()


def _relay(root: Path, gateway_url: str, procs: list[Any]) -> str:
    port = free_port()
    procs.append(
        spawn(
            ["relay", "--port", str(port), "--gateway", gateway_url], log=root / f"relay-{port}.log"
        )
    )
    wait_http(f"http://127.0.0.1:{port}/healthz", procs[-1])
    return f"http://127.0.0.1:{port}/"


# --- the happy path ---------------------------------------------------------------------


def test_happy_path_summary_and_rewrites(world: World) -> None:
    with open_device(world.home / "client") as device:
        answer = device.summarize(Chat.from_json(CHAT))
        summary = answer.result["summary"]
        assert summary["unread"] == 2
        assert "Friday" in summary["text"]
        assert "Next meeting is on Thursday." not in summary["text"]  # read messages stay out
        report = answer.report
        named = {n["node"] for n in report.named}
        assert len(named) == 2
        assert report.answered_by in named
        assert report.answered_by != "enclave-4"  # the unreleased node is never named
        assert report.measurement == world.cluster.release.measurement.hex()  # type: ignore[union-attr]
        assert report.release_index == world.cluster.release.index  # type: ignore[union-attr]
        rewrites = device.rewrite("hey can u send me the notes tmrw", ["professional", "friendly"])
        assert set(rewrites.result["rewrites"]["rewrites"]) == {"professional", "friendly"}
    reports = [
        json.loads(line)
        for line in (world.home / "client" / "reports.jsonl").read_text().splitlines()
    ]
    assert [r["feature"] for r in reports[-2:]] == ["summarize", "rewrite"]


def test_ai_blocked_chat_is_refused_before_anything_is_sent(world: World) -> None:
    with (
        _device(world, "blocked", directory_url="http://127.0.0.1:9/") as device,
        pytest.raises(PolicyError) as info,
    ):
        device.summarize(Chat.from_json({**CHAT, "ai_blocked": True}))
    assert info.value.check == "client.ai_blocked"


# --- refusals at the device ----------------------------------------------------------------


def test_node_measurement_not_in_ledger(world: World) -> None:
    with (
        _device(world, "rogue", directory_url=world.extra["rogue_directory"]) as device,
        pytest.raises(LedgerError) as info,
    ):
        device.summarize(Chat.from_json(CHAT))
    assert info.value.check == "release.missing"


def test_debug_on(world: World) -> None:
    with (
        _device(world, "debug", directory_url=world.extra["debug_directory"]) as device,
        pytest.raises(AttestationError) as info,
    ):
        device.summarize(Chat.from_json(CHAT))
    assert info.value.check == "policy.debug"


def test_key_not_bound(world: World) -> None:
    with (
        _device(world, "swapped", directory_url=world.extra["swapped_directory"]) as device,
        pytest.raises(AttestationError) as info,
    ):
        device.summarize(Chat.from_json(CHAT))
    assert info.value.check.startswith("binding.")


def test_key_config_not_current_in_ledger(world: World) -> None:
    # The gateway serves a config the ledger does not make current for everyone.
    with (
        _device(world, "unrecorded", directory_url=world.extra["unrecorded_directory"]) as device,
        pytest.raises(LedgerError) as info,
    ):
        device.summarize(Chat.from_json(CHAT))
    assert info.value.check == "keyconfig.consistency"


def test_stale_evidence(world: World) -> None:
    # Every node's evidence is older than 1 s by now.
    with (
        _device(world, "stale", evidence_max_age=1) as device,
        pytest.raises(AttestationError) as info,
    ):
        device.verify()
    assert info.value.check == "policy.freshness"


def test_missing_witness_cosignature(world: World) -> None:
    absent = Cosigner("absent.witness", Ed25519PrivateKey.generate())
    other = absent.verifier().vkey()
    with (
        _device(world, "quorum", witness_vkeys=(*world.config.witness_vkeys, other), quorum=3) as d,
        pytest.raises(LedgerError) as info,
    ):
        d.verify()
    assert info.value.check == "ledger.cosignatures.quorum"


def test_ledger_fork(world: World) -> None:
    with _device(world, "fork") as device:
        served = device.verify().checkpoint
        forked = Checkpoint(served.origin, served.size, bytes(32))
        (world.home / "fork" / "seen-checkpoint").write_text(forked.text())
    with _device(world, "fork") as device, pytest.raises(ForkError) as info:
        device.verify()
    # Issue 12 item 9: nothing appends to this world's log while tests run (the
    # rotating gateway that did has its own cluster in test_key_rotation.py), so the
    # device sees the same size and names the fork, not a consistency failure.
    now = httpx.get(world.config.directory_url + "/nodes", timeout=5).json()["checkpoint"]
    assert Checkpoint.parse(Note.decode(now.encode()).text).size == served.size
    assert info.value.check == "ledger.fork"


def test_token_replay(world: World) -> None:
    with open_device(world.home / "client") as device:
        token = device.tokens.take()

        class Same:
            def take(self) -> str:
                return token

        device.tokens.close()  # type: ignore[attr-defined]
        device.tokens = Same()
        device.rewrite("first use", ["friendly"])
        with pytest.raises(ReplayError):
            device.rewrite("second use", ["friendly"])


def test_gateway_routing_to_a_node_not_named(world: World) -> None:
    with (
        _device(
            world,
            "evil",
            relay_url=world.extra["evil_relay"],
            directory_url=world.extra["evil_directory"],
        ) as device,
        pytest.raises(RemoteError) as info,
    ):
        device.summarize(Chat.from_json(CHAT))
    assert info.value.problem in {"unknown-key", "open-failed"}  # no other node can open it


def test_relay_that_alters_bytes(world: World) -> None:
    with (
        _device(world, "flip", relay_url=world.extra["flip_relay"]) as device,
        pytest.raises((RemoteError, OpenError)),
    ):
        device.summarize(Chat.from_json(CHAT))


# --- what parties see -----------------------------------------------------------------------


def test_relay_sees_only_ciphertext_and_gateway_never_the_client_address(world: World) -> None:
    with _device(
        world, "far", relay_url=world.extra["capture_relay"], _local="127.0.0.2"
    ) as device:
        device.summarize(Chat.from_json(CHAT))
    metas = [json.loads(p.read_text()) for p in world.captured.glob("*.json")]
    bodies = [p.read_bytes() for p in world.captured.glob("*.bin")]
    assert metas
    assert bodies
    for meta in metas:
        assert meta["client"] == "127.0.0.1"  # the relay, not the device
        assert "127.0.0.2" not in json.dumps(meta)
        assert {k for k, _ in meta["headers"]} <= {"content-type", "content-length", "host"}
    for body in bodies:
        assert CANARY.encode() not in body
        assert b"Friday" not in body
        assert body[0] in {1, 2, 3}  # an OHTTP key id: bytes, not JSON


def test_canary_reaches_no_server_file_or_log(world: World) -> None:
    with open_device(world.home / "client") as device:
        device.summarize(Chat.from_json(CHAT))
    leaks = []
    for path in world.home.rglob("*"):
        if not path.is_file() or path.is_relative_to(world.home / "client"):
            continue
        if path.parts[len(world.home.parts)] in {
            "far",
            "evil",
            "flip",
            "fork",
            "rogue",
            "stale",
            "quorum",
            "blocked",
        }:
            continue  # other devices' folders
        if CANARY.encode() in path.read_bytes():
            leaks.append(str(path))
    assert leaks == []
    for folder in world.home.glob("enclave-*"):
        # The launcher writes the log (content-free events) and the pid; the node writes nothing.
        assert {p.name for p in folder.iterdir()} <= {f"{folder.name}.log", "pid"}
        events = [
            line.split(" node ", 1)[1]
            for line in (folder / f"{folder.name}.log").read_text().splitlines()
        ]
        assert events
        assert all(
            e.startswith(
                ("node ", "key ", "evidence ", "request ", "model ", "child ", "checkpoint ")
            )
            for e in events
        )


# --- availability: runs last -------------------------------------------------------------------


def test_node_killed_mid_load(world: World) -> None:
    victim: Party = world.cluster.parties["enclave-1"]
    results: list[str] = []
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            with open_device(world.home / "client") as device:
                answer = device.rewrite(f"draft number {i} pls", ["friendly"])
                results.append(answer.report.answered_by)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads[:3]:
        t.start()
    os.killpg(victim.process.pid, signal.SIGKILL)
    for t in threads[3:]:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(results) == 6
    assert set(results) <= {"enclave-1", "enclave-2", "enclave-3"}


def test_canary_reaches_no_metric_and_no_error_response(world: World) -> None:
    """Guarantee 1 in metrics and error bodies: a peer's bad input is never echoed back."""
    with open_device(world.home / "client") as device:
        device.summarize(Chat.from_json(CHAT))
    parties = world.cluster.parties
    metrics = httpx.get(parties["gateway"].url + "/metrics", timeout=10)
    assert metrics.status_code == 200
    assert "privproc" in metrics.text  # the scrape has content, just not ours
    assert CANARY not in metrics.text
    live_node = next(
        n for n, p in parties.items() if n.startswith("enclave-") and p.process.poll() is None
    )
    probes = {
        "relay": ("/", "message/ohttp-req"),
        "gateway": ("/gateway", "message/ohttp-req"),
        live_node: ("/process", "application/octet-stream"),
        "issuer": ("/token-request", "application/private-token-request"),
        "ledger": ("/add", "application/octet-stream"),
    }
    payload = (b"\x01\x00\x20" + CANARY.encode()) * 4
    for name, (path, media) in probes.items():
        for content_type in (media, "text/plain"):
            answer = httpx.post(
                parties[name].url + path,
                content=payload,
                headers={"content-type": content_type},
                timeout=10,
            )
            assert answer.status_code >= 400, (name, content_type, answer.status_code)
            assert CANARY.encode() not in answer.content, (name, content_type)
