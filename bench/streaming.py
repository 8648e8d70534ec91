"""Streamed answers: time to first token, tokens/s and hop memory, private vs direct.

What runs: a real cluster as ``privproc up`` starts it (2 nodes, K = 2, relay, gateway,
issuer, ledger, witnesses, directory: separate processes on loopback), its nodes' model an
OpenAI-compatible server (``--inference-url``). The baseline, in the same run, is the
same server called directly with the node's own streaming client
(:meth:`privproc.inference.openai_compat.OpenAICompatible.complete_stream`): no relay,
gateway, OHTTP, token, sealing or fork.

The model server: llama.cpp on the SmolLM2-135M GGUF when ``.venv-llama`` has it
(scripts/install-llama.sh; temperature 0, the same prompt both ways), else a scripted
server in this process that writes ``TOKENS`` tokens ``PACE`` seconds apart (so the
figures measure the path, not a model).

Figures:
- time to the first token: private and direct, and their difference (target: +200 ms),
  for a device that is open (verified until the directory expires, tokens in its wallet;
  the direct client keeps its connection too); reported apart, a device opened for the
  one request, its opening and verification on the clock;
- tokens/s after the first token: private / direct (target 0.95); both from ``RUNS``
  requests each, private and direct alternating, medians;
- gateway and relay memory per in-flight streamed request, short vs long answer:
  ``INFLIGHT`` streams held open mid-answer (the model waits after writing a short or a
  long prefix, which the devices have all received). Two measures:
  (a) bytes held: the in-memory path (tests/_harness.py: the real relay, gateway and node
      apps in this process, a scripted model in the node's children) under tracemalloc,
      counting what is still allocated from relay or gateway code (any frame of
      ``privproc/relay`` or ``privproc/gateway`` on the allocation's stack), per stream,
      at 16, 1,000 and 4,000 tokens (1,000 frames are 272 KB: past one 64 KiB read);
  (b) the real cluster's relay and gateway processes: their resident memory (VmRSS) rise
      over idle, per stream, at 16, 1,000, 4,000 and 12,000 tokens (3.3 MB of answer),
      each length in a cluster of its own. VmRSS also keeps the allocator's high-water
      mark (memory freed after passing a long answer is not returned to the system at
      once), so (a) is the measure of what is held; (b) is what the operator's machine
      sees, and bounded means it does not follow the answer's length.
  Flat in the answer's length means no hop holds the answer.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from _common import Row, row
from privproc.client.sdk import Device
from privproc.client.session import open_device
from privproc.cluster.launch import Cluster, ClusterSpec
from privproc.enclave.generative import llama_python, packaged_gguf, start_generative
from privproc.errors import ConfigError
from privproc.inference.openai_compat import OpenAICompatible
from privproc.workloads import load_default_backend

BENCH = "streaming"
TOKENS = 60
PACE = 0.01
RUNS = 7
INFLIGHT = 6
SHORT, MID, LONG = 16, 1000, 4000
#: VmRSS only: 12,000 frames are 3.3 MB of sealed stream per request.
LONGEST = 12000
PROMPT = [{"role": "user", "content": "Write three short sentences about a garden."}]


class _Scripted(BaseHTTPRequestHandler):
    """Streams ``pace N S`` (N tokens S s apart) or ``hold N`` (N tokens, then waits for
    ``release``, then ends), as an OpenAI-compatible server's server-sent events."""

    release = threading.Event()

    def log_message(self, *_args: object) -> None:
        return

    def _event(self, delta: dict[str, str], finish: str | None = None) -> None:
        chunk = {"choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
        self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
        self.wfile.flush()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        words = body["messages"][-1]["content"].split()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.end_headers()
        if words[0] == "hold":
            for i in range(int(words[1])):
                self._event({"content": f" t{i % 10}"})
            self.release.wait(120)
        else:
            n, pace = (int(words[1]), float(words[2])) if words[0] == "pace" else (TOKENS, PACE)
            for i in range(n):
                self._event({"content": f" t{i % 10}"})
                time.sleep(pace)
        self._event({}, "stop")
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def _serve() -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def _times(tokens: Iterator[float]) -> tuple[float, float]:
    """(time to the first token, tokens/s after it) from the arrival times."""
    start = time.perf_counter()
    arrivals = [t - start for t in tokens]
    first, last = arrivals[0], arrivals[-1]
    rate = (len(arrivals) - 1) / (last - first) if last > first else 0.0
    return first, rate


def _direct(backend: OpenAICompatible, messages: list[dict[str, str]]) -> Iterator[float]:
    for item in backend.complete_stream(messages, max_tokens=TOKENS):
        if isinstance(item, str):
            yield time.perf_counter()


def _private(device: Device, messages: list[dict[str, str]]) -> Iterator[float]:
    """A request of a device that is open: verified (until the directory's expiry) and
    holding tokens, as an app's device is after its first request."""
    for event in device.stream_chat({"messages": messages, "max_tokens": TOKENS}):
        if "chunk" in event and event["chunk"]["choices"][0]["delta"].get("content"):
            yield time.perf_counter()


def _cold(home: Path, messages: list[dict[str, str]]) -> Iterator[float]:
    """A device opened for the one request: the clock also runs over opening it and
    verifying the directory (the ledger's proofs, every node's evidence)."""
    with open_device(home / "client") as device:
        yield from _private(device, messages)


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _held(cluster: Cluster, home: Path, n: int) -> dict[str, float]:
    """The relay's and gateway's VmRSS rise (KiB) per stream, INFLIGHT streams held open."""
    pids = {p: cluster.parties[p].process.pid for p in ("relay", "gateway")}
    _Scripted.release.clear()
    idle = {p: _rss_kib(pid) for p, pid in pids.items()}
    seen = threading.Semaphore(0)
    errors: list[BaseException] = []

    def one(i: int) -> None:
        folder = home / f"client-{n}-{i}"  # a device of its own (own account, own wallet)
        folder.mkdir(exist_ok=True)
        config = json.loads((home / "client" / "config.json").read_text())
        config["account"] = f"bench-{n}-{i}"
        (folder / "config.json").write_text(json.dumps(config))
        try:
            with open_device(folder) as device:
                got = 0
                for event in device.stream_chat(
                    {"messages": [{"role": "user", "content": f"hold {n}"}], "max_tokens": 1024}
                ):
                    got += "chunk" in event
                    if got == n:  # every token written so far has reached the device
                        seen.release()
        except BaseException as exc:
            errors.append(exc)
            seen.release()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(INFLIGHT)]
    for t in threads:
        t.start()
    for _ in threads:
        seen.acquire(timeout=120)
    time.sleep(0.5)  # let the hops settle on what they hold
    held = {p: _rss_kib(pid) for p, pid in pids.items()}
    _Scripted.release.set()
    for t in threads:
        t.join(120)
    if errors:
        raise errors[0]
    return {p: max(0.0, (held[p] - idle[p]) / INFLIGHT) for p in pids}


def _model() -> tuple[Path, str] | None:
    python = llama_python()
    try:
        return packaged_gguf(python), python
    except ConfigError:
        return None


class _Holding:
    """A scripted chat model for the in-memory path: ``n`` tokens, then it waits on
    ``release`` (a fork-shared event: it runs in the node's children)."""

    name = "holding"

    def __init__(self, embedded: Any, n: int, release: Any) -> None:
        self._embedded, self.n, self.release = embedded, n, release

    def embed(self, texts: Any) -> Any:
        return self._embedded.embed(texts)

    def complete_stream(self, messages: Any, **_options: Any) -> Iterator[Any]:
        from privproc.workloads.backend import Completion

        del messages
        tokens = [f" t{i % 10}" for i in range(self.n)]
        yield from tokens
        self.release.wait(120)
        yield Completion("".join(tokens), "stop")


def _held_bytes(root: Path, n: int, embedded: Any) -> float:
    """Bytes still allocated from relay or gateway code per stream, INFLIGHT held open."""
    import multiprocessing
    import tracemalloc

    from tests._harness import harness

    release = multiprocessing.get_context("fork").Event()
    with harness(root / f"inmemory-{n}", _Holding(embedded, n, release)) as path:
        devices = [path.device(f"bench-{i}") for i in range(INFLIGHT)]
        for device in devices:
            device.verify()
            device.tokens.take()  # fetch the wallet's batch before measuring
        seen = threading.Semaphore(0)
        errors: list[BaseException] = []

        def one(i: int) -> None:
            try:
                got = 0
                for event in devices[i].stream_chat(
                    {"messages": [{"role": "user", "content": "x"}], "max_tokens": 1024}
                ):
                    got += "chunk" in event
                    if got == n:
                        seen.release()
            except BaseException as exc:  # reported after the run
                errors.append(exc)
                seen.release()

        tracemalloc.start(64)
        threads = [threading.Thread(target=one, args=(i,)) for i in range(INFLIGHT)]
        for t in threads:
            t.start()
        for _ in threads:
            seen.acquire(timeout=120)
        time.sleep(0.3)
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        release.set()
        for t in threads:
            t.join(120)
        for device in devices:
            device.close()
        if errors:
            raise errors[0]
    hops = snapshot.filter_traces(
        [
            tracemalloc.Filter(True, "*privproc/relay/*", all_frames=True),
            tracemalloc.Filter(True, "*privproc/gateway/*", all_frames=True),
        ]
    )
    return sum(stat.size for stat in hops.statistics("filename")) / INFLIGHT


def run() -> list[Row]:
    rows: list[Row] = []
    server, url = _serve()
    root = Path(tempfile.mkdtemp(prefix="privproc-bench-streaming-"))
    try:
        embedded = load_default_backend()
        _held_bytes(root, SHORT, embedded)  # warm
        short, mid, long = (_held_bytes(root, n, embedded) for n in (SHORT, MID, LONG))
        note = f"in memory, tracemalloc, {INFLIGHT} streams held open mid-answer"
        for baseline, value in ((SHORT, short), (MID, mid)):
            rows.append(
                row(
                    BENCH,
                    f"relay+gateway bytes held per stream, {LONG}-token answer",
                    long,
                    "B",
                    f"{baseline}-token answer",
                    value,
                    note,
                )
            )
        rows += _latency(root, url)
        rows += _memory(root, url)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(root, ignore_errors=True)
    return rows


def _cluster(home: Path, model: Path, url: str | None, python: str | None) -> Cluster:
    spec = ClusterSpec(
        nodes=2, k=2, model=model, inference_url=url, llama_python=python, request_timeout=120
    )
    cluster = Cluster(home, spec)
    cluster.start()
    return cluster


def _latency(root: Path, scripted_url: str) -> list[Row]:
    found = _model()
    if found is None:
        model, python = root / "scripted.gguf", None
        model.write_bytes(b"the scripted model server's stand-in file")
        url: str | None = scripted_url
        messages = [{"role": "user", "content": f"pace {TOKENS} {PACE}"}]
        note = f"scripted server, {TOKENS} tokens {PACE * 1000:.0f} ms apart"
        direct_backend = OpenAICompatible(scripted_url, "local")
        stop_direct = direct_backend.close
    else:
        model, python = found
        url, messages = None, PROMPT
        note = f"llama.cpp {model.name}, {TOKENS} tokens max, temperature 0"
        gm = start_generative(model=model, embedder=load_default_backend(), python=python)
        direct_backend = gm.backend
        stop_direct = gm.stop
    cluster = _cluster(root / "latency", model, url, python)
    try:
        with open_device(root / "latency" / "client") as device:
            list(_private(device, messages))  # warm: tokens, verification, children
            list(_direct(direct_backend, messages))
            private, direct = [], []
            for _ in range(RUNS):  # interleaved, so a drift of the machine hits both alike
                private.append(_times(_private(device, messages)))
                direct.append(_times(_direct(direct_backend, messages)))
        cold = [_times(_cold(root / "latency", messages))[0] for _ in range(RUNS)]
    finally:
        cluster.stop()
        stop_direct()
    p_first = statistics.median(f for f, _ in private)
    d_first = statistics.median(f for f, _ in direct)
    p_rate = statistics.median(r for _, r in private)
    d_rate = statistics.median(r for _, r in direct)
    return [
        row(BENCH, "first token, private", p_first, "s", "direct", d_first, note),
        row(
            BENCH,
            "first token, private - direct",
            p_first - d_first,
            "s",
            "target +0.2 s",
            0.2,
            "ratio <= 1 meets the target",
        ),
        row(BENCH, "tokens/s after the first, private", p_rate, "tok/s", "direct", d_rate, note),
        row(
            BENCH,
            "first token, a device opened for the request (open + verify)",
            statistics.median(cold),
            "s",
            "open device",
            p_first,
            note,
        ),
    ]


def _memory(root: Path, scripted_url: str) -> list[Row]:
    model = root / "scripted-memory.gguf"
    model.write_bytes(b"the scripted model server's stand-in file")

    def fresh(n: int) -> dict[str, float]:
        # A cluster of its own per length: VmRSS keeps the high-water mark of what came
        # before, so a length measured after a longer one would read low.
        home = root / f"memory-{n}"
        cluster = _cluster(home, model, scripted_url, None)
        try:
            _held(cluster, home, SHORT)  # warm both hops' buffers and pools
            return _held(cluster, home, n)
        finally:
            cluster.stop()

    rss = {n: fresh(n) for n in (SHORT, MID, LONG, LONGEST)}
    note = f"{INFLIGHT} streams held open, all read; VmRSS rise per stream, a cluster each"
    return [
        row(
            BENCH,
            f"{party} KiB per in-flight stream, {n}-token answer",
            rss[n][party],
            "KiB",
            f"{baseline}-token answer",
            rss[baseline][party],
            note,
        )
        for party in ("relay", "gateway")
        for n, baseline in ((LONG, SHORT), (LONG, MID), (LONGEST, LONG))
    ]
