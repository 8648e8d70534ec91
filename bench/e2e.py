"""The private path end to end (issue 6), each figure next to a baseline from the same run.

What runs: a real cluster (``privproc.cluster.launch.Cluster``: witnesses, ledger,
issuer, 2 enclave nodes, gateway, directory, relay, each its own process on
loopback; K = 2), driven by the device SDK (``privproc.client.sdk.Device``: take a
token, seal to K verified nodes, OHTTP-encapsulate, POST to the relay, open); and,
next to it, a plain HTTP server (``bench/_e2e_plain.py``, one uvicorn process) that
calls the node's workload function (``run_feature``) in-process on the same payload:
no token, no crypto, no fork, no relay or gateway hop.

Two workloads, both the ``summarize`` feature on the node's default embedded backend
(all-MiniLM-L6-v2, numpy):

- ``trivial``: the demo chat with no unread message; the feature answers at once
  (no model call), so the figures are the private path's own overhead;
- ``summarize``: the demo chat (5 unread messages); the model embeds every sentence.

Figures, per workload:

1. latency p50 / p99 and throughput of the private path, sequential and with 4
   concurrent devices, next to the plain call (sequential requests are interleaved
   private/plain so a burst of load on the shared machine hits both);
2. server CPU per request (relay + gateway + nodes, their reaped per-request
   children included, read from /proc/<pid>/stat, minus the idle background rate
   measured just before) next to the server-side crypto floor (the X25519, HKDF,
   AES-GCM, SHA-256 and RSA-PSS-verify operations one request needs, straight from
   ``cryptography``) and next to the plain server's CPU per request;
3. the fresh process per request: one sealed request through ``Node.process`` (a
   child forked ahead of its request by the node's pool, ``enclave.prefork``) next
   to the same open + run + seal in-process, and next to ``ForkRunner`` (a child
   forked per request, what the node did before issue 18); a fork of an identity
   handler next to calling it; and a bench-only sketch, ``os.fork`` without
   ``multiprocessing``.

Tokens are fetched before the timed loops (issuance is batched ahead on a device,
DESIGN.md step 1; ``bench/tokens.py`` measures it); the device's directory
verification is done once before, as the SDK caches it. Nothing here asserts a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import httpx
import numpy as np
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from _common import Row, rate, row
from privproc import bhttp
from privproc.client.config import ClientConfig
from privproc.client.sdk import SEALED_MEDIA, Device
from privproc.client.tokens import IssuerTokens
from privproc.cluster.demo import GROUP_CHAT
from privproc.cluster.launch import Cluster, ClusterSpec, free_port
from privproc.enclave.features import run_feature
from privproc.enclave.hugepages import place_on_huge_pages
from privproc.enclave.node import Node
from privproc.enclave.platform import Hardware, load_vendor
from privproc.enclave.worker import ForkRunner
from privproc.sealed import open_request, parse_header, seal_request
from privproc.tokens.protocol import TOKEN_TYPE_BLIND_RSA, TokenChallenge
from privproc.workloads import load_default_backend
from privproc.workloads.chat import Chat

BENCH = "e2e"
HERE = Path(__file__).resolve().parent
NODES, K = 2, 2
#: Sequential requests per workload (each path), concurrent devices, requests per device.
SEQUENTIAL = {"trivial": 40, "summarize": 24}
CONCURRENCY = 4
PER_DEVICE = {"trivial": 10, "summarize": 6}
#: Warm-up requests per device and path, not timed.
WARM = 2
#: Node-level runs (fork vs in-process) per workload.
NODE_RUNS = {"trivial": 30, "summarize": 15}
IDLE_WINDOW = 3.0
SERVER_PARTIES = ("relay", "gateway", *(f"enclave-{i}" for i in range(1, NODES + 1)))
#: An ``Authorization`` value of the real length (token type 0x0002 is 322 bytes, base64url).
_TOKEN_HEADER = b"PrivateToken token=" + b"A" * 430

_TICK = os.sysconf("SC_CLK_TCK")


def _workload(name: str) -> Chat:
    if name == "trivial":
        messages = GROUP_CHAT["messages"]
        assert isinstance(messages, list)
        chat = {**GROUP_CHAT, "messages": [{**m, "unread": False} for m in messages]}
        return Chat.from_json(chat)
    return Chat.from_json(GROUP_CHAT)


def _payload(chat: Chat) -> bytes:
    """The exact bytes the SDK seals for ``Device.summarize(chat)``."""
    body = {"feature": "summarize", "chat": chat.to_json()}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# --- process CPU ------------------------------------------------------------------------


def _cpu(pid: int, *, children_only: bool = False) -> float:
    """CPU seconds of ``pid`` and its reaped children (/proc/<pid>/stat fields 14-17:
    utime, stime, cutime, cstime), or of the reaped children only."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(x) for x in fields[13 if children_only else 11 : 15]) / _TICK


def _rss_mb(pid: int | str) -> float:
    """Resident set size of ``pid`` in MB (/proc/<pid>/status VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _cpu_of(pids: dict[str, int]) -> dict[str, float]:
    return {name: _cpu(pid) for name, pid in pids.items()}


def _idle_rate(pids: dict[str, int], window: float = IDLE_WINDOW) -> float:
    """Background CPU seconds per second of ``pids`` (key ticks, evidence polls)."""
    before = sum(_cpu_of(pids).values())
    time.sleep(window)
    return (sum(_cpu_of(pids).values()) - before) / window


# --- timing -----------------------------------------------------------------------------


def _pct(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples), q))


@dataclass
class _Path:
    """Latencies and client CPU of one path's sequential run."""

    latencies: list[float]
    client_cpu: float = 0.0


def _interleaved(
    calls: dict[str, Callable[[], object]], n: int
) -> tuple[dict[str, _Path], dict[str, float]]:
    """``n`` rounds of each call in turn; per-call latency and this process's CPU."""
    out = {name: _Path([]) for name in calls}
    walls = dict.fromkeys(calls, 0.0)
    for _ in range(n):
        for name, call in calls.items():
            c0, t0 = time.process_time(), time.perf_counter()
            call()
            elapsed = time.perf_counter() - t0
            out[name].latencies.append(elapsed)
            out[name].client_cpu += time.process_time() - c0
            walls[name] += elapsed
    return out, walls


def _concurrent(calls: Sequence[Callable[[], object]], per: int) -> tuple[list[float], float]:
    """Each call run ``per`` times in its own thread, all at once: latencies and wall."""
    barrier = threading.Barrier(len(calls) + 1)

    def worker(call: Callable[[], object]) -> list[float]:
        barrier.wait()
        lat = []
        for _ in range(per):
            t0 = time.perf_counter()
            call()
            lat.append(time.perf_counter() - t0)
        return lat

    with ThreadPoolExecutor(len(calls)) as pool:
        futures = [pool.submit(worker, c) for c in calls]
        barrier.wait()
        start = time.perf_counter()
        results = [f.result() for f in futures]
        wall = time.perf_counter() - start
    return [x for r in results for x in r], wall


# --- the devices and the plain client ---------------------------------------------------


class _Prefetched:
    """A token source holding tokens fetched before the timed loop."""

    def __init__(self, source: IssuerTokens, n: int) -> None:
        self._tokens = deque(source.take() for _ in range(n))
        source.close()

    def take(self) -> str:
        return self._tokens.popleft()


def _device(config: ClientConfig, root: Path, i: int, tokens: int) -> Device:
    home = root / f"bench-device-{i}"
    home.mkdir(mode=0o700)
    challenge = TokenChallenge(TOKEN_TYPE_BLIND_RSA, config.issuer_name, b"", config.origin)
    issuer = IssuerTokens(config.issuer_url, f"bench-{i}", challenge, home)
    # One loopback address per device: the relay's rate limit is per client address.
    return Device(config, home, _Prefetched(issuer, tokens), local_address=f"127.0.0.{2 + i}")


def _start_plain(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    with (root / f"plain-{port}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, str(HERE / "_e2e_plain.py"), str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"plain server exited (see {root})")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                return process, url
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("plain server did not start")


def _plain_call(client: httpx.Client, url: str, payload: bytes) -> Callable[[], dict[str, Any]]:
    def call() -> dict[str, Any]:
        answer = client.post(url + "/run", content=payload)
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return result

    return call


# --- the crypto floor -------------------------------------------------------------------


def _server_floor(sealed: bytes, answer_len: int) -> Callable[[], None]:
    """The primitive work the servers must do for one request, from ``cryptography``.

    Gateway: OHTTP decapsulation (1 X25519, 2 HKDF, AES-128-GCM open of the binary
    HTTP request), the token's RSASSA-PSS-SHA384 verification (2048-bit, RFC 9578
    type 0x0002) and its SHA-256 spent-store key, the OHTTP response (1 HKDF,
    AES-128-GCM seal). Node: the wrap (1 X25519, 2 HKDF, AES-256-GCM open of the
    data key), the body (AES-256-GCM open), SHA-256 of the request, the response key
    (1 HKDF) and the sealed answer (AES-256-GCM seal). Sizes are the real ones.
    """
    inner = bhttp.encode(
        bhttp.Request(
            "POST",
            "https",
            "gateway",
            "/process",
            headers=((b"authorization", _TOKEN_HEADER), (b"content-type", SEALED_MEDIA.encode())),
            content=sealed,
        )
    )
    padded_answer = 4 + answer_len + 16
    padded_answer += -padded_answer % 1024
    sealed_answer_len = 4 + 1 + 32 + 32 + padded_answer
    outer_answer = bytes(sealed_answer_len + 40)
    gw_sk, node_sk = x25519.X25519PrivateKey.generate(), x25519.X25519PrivateKey.generate()
    eph_pk = x25519.X25519PrivateKey.generate().public_key()
    eph_raw = eph_pk.public_bytes_raw()
    key16, key32, nonce = os.urandom(16), os.urandom(32), os.urandom(12)
    inner_ct = AESGCM(key16).encrypt(nonce, inner, None)
    wrap_ct = AESGCM(key32).encrypt(nonce, os.urandom(32), None)
    body_at = 24 + 112 * K  # sealed.py: fixed header, then K wraps of 112 bytes
    body_ct = AESGCM(key32).encrypt(nonce, bytes(len(sealed) - body_at - 16), None)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pss = padding.PSS(padding.MGF1(hashes.SHA384()), 48)
    token_input = os.urandom(98)
    signature = rsa_key.sign(token_input, pss, hashes.SHA384())
    rsa_pub = rsa_key.public_key()

    def hkdf(secret: bytes, n: int) -> bytes:
        return HKDF(hashes.SHA256(), n, None, b"floor").derive(secret)

    def once() -> None:
        # gateway
        shared = gw_sk.exchange(x25519.X25519PublicKey.from_public_bytes(eph_raw))
        gk = hkdf(hkdf(shared, 32), 28)  # derived as the RFC says; decrypt with the
        AESGCM(key16).decrypt(nonce, inner_ct, None)  # key the ciphertext was made under
        rsa_pub.verify(signature, token_input, pss, hashes.SHA384())
        hashlib.sha256(token_input + signature).digest()
        # node
        shared = node_sk.exchange(x25519.X25519PublicKey.from_public_bytes(eph_raw))
        nk = hkdf(hkdf(shared, 32), 44)
        AESGCM(key32).decrypt(nonce, wrap_ct, None)  # (same: precomputed key, same work)
        AESGCM(key32).decrypt(nonce, body_ct, None)
        hashlib.sha256(sealed).digest()
        r = hkdf(nk, 44)
        AESGCM(r[:32]).encrypt(nonce, bytes(padded_answer), None)
        # gateway, the answer
        r = hkdf(gk, 28)
        AESGCM(r[:16]).encrypt(nonce, outer_answer, None)

    return once


# --- the node: fork per request vs in-process ------------------------------------------


def _os_fork(handler: Callable[[bytes], bytes], data: bytes) -> bytes:
    """A bench-only sketch, not the node's code: ``os.fork`` + a pipe + ``waitpid``,
    without ``multiprocessing``'s process bootstrap (to size that part of the cost)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(r)
        try:
            os.write(w, handler(data))
        finally:
            os._exit(0)
    os.close(w)
    chunks = []
    while chunk := os.read(r, 65536):
        chunks.append(chunk)
    os.close(r)
    os.waitpid(pid, 0)
    return b"".join(chunks)


def _node_costs(root: Path, backend: Any, payloads: dict[str, bytes]) -> dict[str, list[float]]:
    """Per-request seconds through ``Node.process`` (forked child) and in-process."""
    seed = root / "vendor.seed"
    seed.write_bytes(os.urandom(48))
    measurement = hashlib.sha384(b"privproc e2e bench").digest()
    hardware = Hardware.for_node(load_vendor(seed), "bench-node", measurement)
    node = Node("bench-node", hardware, backend)
    key = node.ring.current()
    private = node.ring.private_key(key.key_id)
    identity_runner = ForkRunner()

    def in_process(sealed: bytes) -> bytes:
        """What ``Node.process`` does, without the fork."""
        parse_header(sealed)
        opened = open_request(sealed, private, key.public_key)
        return opened.seal_response(run_feature(opened.payload, backend))

    def identity(data: bytes) -> bytes:
        return data

    async def measure() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for name, payload in payloads.items():
            sealed = [seal_request(payload, [key.public_key])[0] for _ in range(NODE_RUNS[name])]
            await node.process(sealed[0])  # warm
            in_process(sealed[0])
            forked, inline = [], []
            faults = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
            for s in sealed:  # interleaved, so load bursts hit both
                t0 = time.perf_counter()
                await node.process(s)
                forked.append(time.perf_counter() - t0)
                await asyncio.sleep(0)  # the pool forks the next child (a server does it
                # while the answer travels back), outside the timed request
                t0 = time.perf_counter()
                in_process(s)
                inline.append(time.perf_counter() - t0)
            out[f"{name}/fork"], out[f"{name}/inline"] = forked, inline
            faults = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - faults
            out[f"{name}/faults"] = [faults / len(sealed)]
        bare, direct = [], []
        faults = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt
        for _ in range(NODE_RUNS["trivial"]):
            t0 = time.perf_counter()
            await identity_runner.run(identity, b"x" * 1024)
            bare.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            identity(b"x" * 1024)
            direct.append(time.perf_counter() - t0)
        out["identity/fork"], out["identity/inline"] = bare, direct
        out["rss"] = [_rss_mb("self")]
        faults = resource.getrusage(resource.RUSAGE_CHILDREN).ru_minflt - faults
        out["identity/faults"] = [faults / len(bare)]
        runner, plain_fork = [], []
        for _ in range(NODE_RUNS["trivial"]):  # interleaved again, without the fault count
            t0 = time.perf_counter()
            await identity_runner.run(identity, b"x" * 1024)
            runner.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            _os_fork(identity, b"x" * 1024)
            plain_fork.append(time.perf_counter() - t0)
        out["identity/runner"], out["identity/os.fork"] = runner, plain_fork
        for name, payload in payloads.items():  # the pool vs a fork per request (before)
            sealed = [seal_request(payload, [key.public_key])[0] for _ in range(NODE_RUNS[name])]
            via_runner, via_pool = [], []
            for s in sealed:
                t0 = time.perf_counter()
                await identity_runner.run(in_process, s)
                via_runner.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                await node.process(s)
                via_pool.append(time.perf_counter() - t0)
                await asyncio.sleep(0)  # the next child forks here, off the request's path
            out[f"{name}/runner"], out[f"{name}/preforked"] = via_runner, via_pool
        node.close()
        return out

    return asyncio.run(measure())


# --- the run ----------------------------------------------------------------------------


def run() -> list[Row]:
    rows: list[Row] = []
    backend = load_default_backend()
    place_on_huge_pages(backend)  # as the node does (enclave.service)
    chats = {name: _workload(name) for name in SEQUENTIAL}
    payloads = {name: _payload(chat) for name, chat in chats.items()}
    expected = {name: json.loads(run_feature(p, backend)) for name, p in payloads.items()}
    with tempfile.TemporaryDirectory(prefix="privproc-e2e-bench-") as tmp:
        root = Path(tmp)
        # 3. first, before any thread exists in this process (the runner forks it).
        node = _node_costs(root, backend, payloads)
        spec = ClusterSpec(nodes=NODES, rogue_nodes=0, k=K)
        with Cluster(root / "cluster", spec) as cluster:
            config = cluster.start()
            # As many plain servers as nodes, so both sides have the same process count.
            plain: list[tuple[subprocess.Popen[bytes], str]] = []
            try:
                for _ in range(NODES):
                    plain.append(_start_plain(root))
                urls = {p.pid: url for p, url in plain}
                rows += _paths(cluster, config, root, urls, chats, expected)
            finally:
                for process, _url in plain:
                    process.terminate()
                for process, _url in plain:
                    try:
                        process.wait(5)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait(2)
    rows += _node_rows(node)
    return rows


def _paths(
    cluster: Cluster,
    config: ClientConfig,
    root: Path,
    plain_urls: dict[int, str],
    chats: dict[str, Chat],
    expected: dict[str, dict[str, Any]],
) -> list[Row]:
    rows: list[Row] = []
    # Device 0 runs the sequential loops too; every device warms up and runs its share.
    shared = sum(WARM + PER_DEVICE[w] for w in SEQUENTIAL)
    tokens = [shared + (sum(SEQUENTIAL.values()) if i == 0 else 0) for i in range(CONCURRENCY)]
    devices = [_device(config, root, i, n) for i, n in enumerate(tokens)]
    clients = [httpx.Client(timeout=60) for _ in range(CONCURRENCY)]
    servers = {name: cluster.parties[name].process.pid for name in SERVER_PARTIES}
    plain_pids = {f"plain-{i}": pid for i, pid in enumerate(plain_urls)}
    urls = list(plain_urls.values())
    try:
        for device in devices:
            device.verify()
        cold = []
        for _ in range(3):
            t0 = time.perf_counter()
            devices[0].verify(force=True)
            cold.append(time.perf_counter() - t0)
        p50s = {}
        for name, chat in chats.items():
            payload = _payload(chat)
            private_calls = [lambda d=d, c=chat: d.summarize(c).result for d in devices]
            plain_calls = [
                _plain_call(c, urls[i % len(urls)], payload) for i, c in enumerate(clients)
            ]
            for call in (*private_calls, *plain_calls):
                for _ in range(WARM):
                    if call() != expected[name]:
                        raise RuntimeError(f"{name}: an answer differs from run_feature's")
            idle = _idle_rate(servers)
            plain_idle = _idle_rate(plain_pids, 1.0)
            cpu0, plain0 = _cpu_of(servers), _cpu_of(plain_pids)
            kids0 = sum(_cpu(p, children_only=True) for p in servers.values())
            n = SEQUENTIAL[name]
            seq, walls = _interleaved({"private": private_calls[0], "plain": plain_calls[0]}, n)
            cpu1, plain1 = _cpu_of(servers), _cpu_of(plain_pids)
            kids = (sum(_cpu(p, children_only=True) for p in servers.values()) - kids0) / n
            span = sum(walls.values())
            per_party = {p: (cpu1[p] - cpu0[p]) / n for p in servers}
            per_party["children"] = kids
            per_party["rss"] = max(_rss_mb(servers[p]) for p in servers if p.startswith("enc"))
            server_cpu = (sum(cpu1.values()) - sum(cpu0.values()) - idle * span) / n
            plain_cpu = (sum(plain1.values()) - sum(plain0.values()) - plain_idle * span) / n
            conc_private, wall_private = _concurrent(private_calls, PER_DEVICE[name])
            conc_plain, wall_plain = _concurrent(plain_calls, PER_DEVICE[name])
            sealed, _secret = seal_request(_payload(chat), [os.urandom(32)] * K)
            answer_len = len(json.dumps(expected[name], ensure_ascii=False).encode())
            once = _server_floor(sealed, answer_len)
            floor = 1.0 / max(rate(once, min_time=0.3) for _ in range(2))  # best of two
            p50s[name] = _pct(seq["private"].latencies, 50)
            rows += _path_rows(
                name,
                seq,
                walls,
                (conc_private, wall_private, conc_plain, wall_plain),
                (server_cpu, plain_cpu, floor, idle, per_party),
            )
        rows.append(
            row(
                BENCH,
                "device: fetch + verify the directory (first request; cached after)",
                _pct(cold, 50),
                "s",
                "private path p50 (trivial), verification cached",
                p50s["trivial"],
                "evidence chains, policy, ledger proofs, witness cosignatures, K=2 nodes; n=3",
            )
        )
    finally:
        for device in devices:
            device.close()
        for client in clients:
            client.close()
    return rows


def _ms(x: float) -> str:
    return f"{x * 1000:.1f} ms"


def _path_rows(
    name: str,
    seq: dict[str, _Path],
    walls: dict[str, float],
    conc: tuple[list[float], float, list[float], float],
    cpu: tuple[float, float, float, float, dict[str, float]],
) -> list[Row]:
    private, plain = seq["private"].latencies, seq["plain"].latencies
    n = len(private)
    conc_private, wall_private, conc_plain, wall_plain = conc
    server_cpu, plain_cpu, floor, idle, per_party = cpu
    nodes_cpu = sum(v for p, v in per_party.items() if p.startswith("enclave-"))
    parties = (
        f"relay {_ms(per_party['relay'])}, gateway {_ms(per_party['gateway'])}, "
        f"nodes {_ms(nodes_cpu)} of which per-request children {_ms(per_party['children'])} "
        f"(node RSS {per_party['rss']:.0f} MB) "
        f"(raw; idle {idle * 1000:.0f} ms/s subtracted from the sum only)"
    )
    what = f"{name}: summarize, {'0' if name == 'trivial' else '5'} unread"
    private_label = f"private path ({what})"
    plain_label = "plain HTTP call, same workload"
    m = len(conc_private)
    return [
        row(BENCH, f"{private_label} latency p50", _pct(private, 50), "s",
            f"{plain_label} p50", _pct(plain, 50), f"sequential, n={n} each, interleaved"),
        row(BENCH, f"{private_label} latency p99", _pct(private, 99), "s",
            f"{plain_label} p99", _pct(plain, 99), f"n={n}: p99 is about the max"),
        row(BENCH, f"{private_label} throughput, sequential", n / walls["private"], "req/s",
            f"{plain_label}, sequential", n / walls["plain"], "1 device"),
        row(BENCH, f"{private_label} throughput, {CONCURRENCY} concurrent",
            m / wall_private, "req/s", f"{plain_label}, {CONCURRENCY} concurrent",
            len(conc_plain) / wall_plain,
            f"{CONCURRENCY} devices x {m // CONCURRENCY}; p50 {_ms(_pct(conc_private, 50))} "
            f"vs {_ms(_pct(conc_plain, 50))}, p99 {_ms(_pct(conc_private, 99))} "
            f"vs {_ms(_pct(conc_plain, 99))}"),
        row(BENCH, f"{private_label} server CPU per request", server_cpu, "s",
            "server-side crypto floor per request (cryptography)", floor, parties),
        row(BENCH, f"{private_label} server CPU per request", server_cpu, "s",
            f"{plain_label}: server CPU per request", plain_cpu, "both minus idle background"),
        row(BENCH, f"{private_label} device CPU per request", seq["private"].client_cpu / n, "s",
            f"{plain_label}: client CPU per request", seq["plain"].client_cpu / n,
            "SDK: seal to K=2, OHTTP, open, report; tokens and verification done before"),
    ]  # fmt: skip


def _node_rows(node: dict[str, list[float]]) -> list[Row]:
    rows = []
    for name in SEQUENTIAL:
        fork, inline = node[f"{name}/fork"], node[f"{name}/inline"]
        rows.append(
            row(
                BENCH,
                f"node: one sealed request, child forked ahead ({name}) p50",
                _pct(fork, 50),
                "s",
                "same open + run + seal in-process p50",
                _pct(inline, 50),
                f"Node.process (pre-forked pool), n={len(fork)}; p99 {_ms(_pct(fork, 99))} "
                f"vs {_ms(_pct(inline, 99))}; "
                f"{node[f'{name}/faults'][0]:.0f} minor page faults per child",
            )
        )
    fork, inline = node["identity/fork"], node["identity/inline"]
    rows.append(
        row(
            BENCH,
            "ForkRunner: fork + pipe + reap, identity handler p50",
            _pct(fork, 50),
            "s",
            "identity handler called in-process p50",
            _pct(inline, 50),
            "the bare cost of a fresh process per request (parent has the model loaded, "
            f"RSS {node['rss'][0]:.0f} MB); {node['identity/faults'][0]:.0f} minor page faults "
            "per child",
        )
    )
    for name in SEQUENTIAL:
        runner, pre = node[f"{name}/runner"], node[f"{name}/preforked"]
        rows.append(
            row(
                BENCH,
                f"node: Node.process, pre-forked pool ({name}) p50",
                _pct(pre, 50),
                "s",
                "ForkRunner: a child forked per request (the node before issue 18) p50",
                _pct(runner, 50),
                f"interleaved, n={len(pre)}: fork and reap moved off the request's path; "
                "one fresh child per request still",
            )
        )
    runner, plain_fork = node["identity/runner"], node["identity/os.fork"]
    rows.append(
        row(
            BENCH,
            "os.fork + pipe + waitpid, identity handler p50 (bench-only sketch)",
            _pct(plain_fork, 50),
            "s",
            "ForkRunner (multiprocessing fork context), identity handler p50",
            _pct(runner, 50),
            f"interleaved, n={len(runner)}: what multiprocessing's bootstrap adds to a fork",
        )
    )
    return rows
