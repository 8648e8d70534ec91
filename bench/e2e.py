"""End-to-end figures: the private path next to a plain HTTP call to the same workload.

All in one run, on loopback, every party a separate process (privproc.cluster):

* latency p50 / p99 and sequential throughput of ``Device.summarize`` (token, OHTTP
  through the relay, gateway, fork-per-request node, sealed both ways) next to a
  plain HTTP POST of the same feature payload to a process running the same
  workload in-process (bench/_plain_node.py);
* server CPU per private request (gateway + relay + nodes incl. their forked
  children, from /proc) next to the plain server's CPU per request, and next to
  the crypto floor: the CPU of every cryptographic step of one request (OHTTP
  both ways, sealing both ways, K=2 wraps, token verification) back to back in
  one process;
* the node's fresh process per request (ForkRunner) next to calling the same
  handler in-process.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric import rsa

from _common import Row, row
from privproc import bhttp, ohttp
from privproc.client.session import open_device
from privproc.cluster.launch import Cluster, ClusterSpec, free_port
from privproc.enclave.features import run_feature
from privproc.enclave.worker import ForkRunner
from privproc.sealed import SUITE, open_request, seal_request
from privproc.tokens import blind_rsa, issuance
from privproc.tokens.issuance import IssuerKeyPair
from privproc.tokens.protocol import TOKEN_TYPE_BLIND_RSA, TokenChallenge
from privproc.workloads import Chat, load_default_backend

N = int(os.environ.get("PRIVPROC_BENCH_E2E_N", "30"))
CHAT = {
    "chat": "Hiking crew",
    "language": "en",
    "ai_blocked": False,
    "messages": [
        {"sender": s, "time": f"2026-11-20T18:{i:02d}:00Z", "unread": True, "text": t}
        for i, (s, t) in enumerate(
            [
                ("Ines", "Can we meet at the north parking lot at 7:30?"),
                ("Maya", "7:30 works. I'll bring the first aid kit and the map."),
                ("Tom", "Correction: rain expected after 1pm, so let's start at 7."),
                ("Ines", "Fine by me. Who can drive? I have room for two."),
                ("Maya", "Decided then: 7:00 at the north lot, Ines drives."),
            ]
        )
    ],
}
PAYLOAD = json.dumps({"feature": "summarize", "chat": CHAT}).encode()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _cpu(pid: int) -> float:
    """utime + stime + children's (waited-for) utime + stime, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = sum(int(fields[i]) for i in (11, 12, 13, 14))
    return ticks / os.sysconf("SC_CLK_TCK")


def _crypto_floor(node_pk: bytes, node_sk: bytes, answer: bytes) -> float:
    """CPU seconds of one request's cryptography, every step back to back."""
    gw = ohttp.ServerKey.derive(1, b"k" * 32)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pair = IssuerKeyPair.from_private_key(blind_rsa.PrivateKey.from_cryptography(rsa_key))
    challenge = TokenChallenge(TOKEN_TYPE_BLIND_RSA, "issuer", b"", "gateway")
    request, pending = issuance.begin(pair.token_key, challenge)
    token = issuance.finish(pending, issuance.evaluate([pair], request))

    def once() -> None:
        sealed, secret = seal_request(PAYLOAD, [node_pk, node_pk])
        inner = bhttp.encode(bhttp.Request("POST", "https", "g", "/process", content=sealed))
        enc, ctx = ohttp.encapsulate_request(gw.config, inner)
        got, sctx = ohttp.decapsulate_request(gw, enc)
        opened = open_request(bhttp.decode_request(got).content, node_sk, node_pk)
        response = opened.seal_response(answer)
        wrapped = sctx.seal(bhttp.encode(bhttp.Response(200, content=response)))
        secret.open_response(bhttp.decode_response(ctx.open(wrapped)).content)

    once()
    start = time.process_time()
    for _ in range(20):
        once()
        issuance.verify_token(token, pair.token_key)
    return (time.process_time() - start) / 20


def _fork_vs_inprocess() -> tuple[float, float]:
    backend = load_default_backend()
    sk, pk = SUITE.generate_key_pair()
    sealed, _ = seal_request(PAYLOAD, [pk])

    def handle(data: bytes) -> bytes:
        opened = open_request(data, sk, pk)
        return opened.seal_response(run_feature(opened.payload, backend))

    handle(sealed)
    start = time.perf_counter()
    for _ in range(10):
        handle(sealed)
    inproc = (time.perf_counter() - start) / 10

    async def forked() -> float:
        runner = ForkRunner(timeout=60)
        await runner.run(handle, sealed)
        t = time.perf_counter()
        for _ in range(10):
            await runner.run(handle, sealed)
        return (time.perf_counter() - t) / 10

    return asyncio.run(forked()), inproc


def run() -> list[Row]:
    rows: list[Row] = []
    fork, inproc = _fork_vs_inprocess()
    rows.append(
        row(
            "e2e",
            "node handler, fresh forked process",
            fork * 1e3,
            "ms",
            "same handler in-process",
            inproc * 1e3,
            "summarize, 5 unread messages",
        )
    )
    with tempfile.TemporaryDirectory(prefix="privproc-bench-") as tmp:
        home = Path(tmp)
        port = free_port()
        plain = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("_plain_node.py")), str(port)],
            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
        try:
            with Cluster(home, ClusterSpec(nodes=2, k=2)) as cluster:
                cluster.start()
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                        break
                    except httpx.HTTPError:
                        time.sleep(0.2)
                chat = Chat.from_json(CHAT)
                servers = [
                    p.process.pid
                    for n, p in cluster.parties.items()
                    if n in {"gateway", "relay"} or n.startswith("enclave-")
                ]
                with open_device(home / "client") as device:
                    device.tokens.take()  # fill the wallet outside the timed loop
                    device.summarize(chat)
                    cpu0 = sum(_cpu(p) for p in servers)
                    private = []
                    t0 = time.perf_counter()
                    for _ in range(N):
                        t = time.perf_counter()
                        device.summarize(chat)
                        private.append(time.perf_counter() - t)
                    private_total = time.perf_counter() - t0
                    cpu = (sum(_cpu(p) for p in servers) - cpu0) / N
                plain_lat = []
                with httpx.Client() as client:
                    client.post(f"http://127.0.0.1:{port}/plain", content=PAYLOAD)
                    plain_cpu0 = _cpu(plain.pid)
                    t0 = time.perf_counter()
                    for _ in range(N):
                        t = time.perf_counter()
                        client.post(
                            f"http://127.0.0.1:{port}/plain", content=PAYLOAD
                        ).raise_for_status()
                        plain_lat.append(time.perf_counter() - t)
                    plain_total = time.perf_counter() - t0
                    plain_cpu = (_cpu(plain.pid) - plain_cpu0) / N
        finally:
            plain.terminate()
            plain.wait(10)
    rows.append(
        row(
            "e2e",
            "private path latency p50",
            _pct(private, 0.5) * 1e3,
            "ms",
            "plain HTTP, same workload, p50",
            _pct(plain_lat, 0.5) * 1e3,
            f"n={N}",
        )
    )
    rows.append(
        row(
            "e2e",
            "private path latency p99",
            _pct(private, 0.99) * 1e3,
            "ms",
            "plain HTTP, same workload, p99",
            _pct(plain_lat, 0.99) * 1e3,
            f"n={N}",
        )
    )
    rows.append(
        row(
            "e2e",
            "private path throughput",
            N / private_total,
            "req/s",
            "plain HTTP throughput",
            N / plain_total,
            "sequential, one device",
        )
    )
    rows.append(
        row(
            "e2e",
            "server CPU per private request",
            cpu * 1e3,
            "ms",
            "plain server CPU per request",
            plain_cpu * 1e3,
            "the difference is the price of privacy on the servers",
        )
    )
    sk, pk = SUITE.generate_key_pair()
    floor = _crypto_floor(pk, sk, b'{"summary": {"text": "x"}}' * 8)
    rows.append(
        row(
            "e2e",
            "server CPU per private request",
            cpu * 1e3,
            "ms",
            "crypto floor per request",
            floor * 1e3,
            "gateway+relay+nodes (incl. forked children) vs all crypto steps in one process",
        )
    )
    return rows
