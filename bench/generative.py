"""A generative node's cost: the same writing work through the private path vs direct.

What runs, when ``.venv-llama`` (scripts/install-llama.sh) has llama-cpp-python and the
SmolLM2-135M GGUF: a real cluster started as ``privproc up --model`` starts it (2 nodes,
K = 2, each with its own loopback llama.cpp server, privproc.inference.llama_server),
driven by the device SDK; and, as the baseline in the same run, one llama.cpp server
started the same way (privproc.enclave.generative.start_generative) with the node's own
feature code (``run_feature``) called on it in this process: the same prompts, the same
tokens (temperature 0, seed 0), no relay, gateway, OHTTP, token, sealing or fork.

Figures:
- rewrite throughput (professional tone, DRAFTS drafts): path / direct. Both generate the
  same tokens, so this is the private path's share of the direct tokens/s (target 0.95).
- time to the answer of one rewrite: path vs direct, and their difference (whole answers;
  streamed first tokens and tokens/s are bench/streaming.py's).
Without the llama.cpp venv the bench reports nothing and says why.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import Row, row
from privproc.client.sdk import Device
from privproc.client.tokens import IssuerTokens
from privproc.cluster.launch import Cluster, ClusterSpec
from privproc.enclave.features import run_feature
from privproc.enclave.generative import llama_python, packaged_gguf, start_generative
from privproc.errors import ConfigError
from privproc.tokens.protocol import TOKEN_TYPE_BLIND_RSA, TokenChallenge
from privproc.workloads import load_default_backend

BENCH = "generative"
DRAFTS = (
    "hey guys im running late tmrw, can u wait 10 min pls",
    "can u send me the report by friday, thx",
    "dont forget the meeting at 3 with Sam, its in room 204",
    "i think we shud move the launch to next week",
)
TONE = "professional"


def _payload(draft: str) -> bytes:
    body = {"feature": "rewrite", "draft": draft, "tones": [TONE], "language": "en"}
    return json.dumps(body).encode()


def _direct(model: Path, python: str) -> list[float]:
    gm = start_generative(model=model, embedder=load_default_backend(), python=python)
    try:
        run_feature(_payload(DRAFTS[0]), gm.backend)  # warm
        times = []
        for draft in DRAFTS:
            start = time.perf_counter()
            out = json.loads(run_feature(_payload(draft), gm.backend))
            times.append(time.perf_counter() - start)
            assert "error" not in out, out
    finally:
        gm.stop()
    return times


def _path(model: Path, python: str, root: Path) -> list[float]:
    spec = ClusterSpec(nodes=2, k=2, model=model, llama_python=python, request_timeout=600.0)
    with Cluster(root / "cluster", spec) as cluster:
        config = cluster.start()
        home = root / "device"
        home.mkdir(mode=0o700)
        challenge = TokenChallenge(TOKEN_TYPE_BLIND_RSA, config.issuer_name, b"", config.origin)
        tokens = IssuerTokens(config.issuer_url, "bench-generative", challenge, home)
        device = Device(config, home, tokens)
        try:
            device.rewrite(DRAFTS[0], [TONE], "en")  # warm: verify, tokens, both servers
            device.rewrite(DRAFTS[0], [TONE], "en")
            times = []
            for draft in DRAFTS:
                start = time.perf_counter()
                device.rewrite(draft, [TONE], "en")
                times.append(time.perf_counter() - start)
        finally:
            device.close()
            tokens.close()
    return times


def run() -> list[Row]:
    python = llama_python()
    try:
        model = packaged_gguf(python)
    except ConfigError as exc:
        print(f"{BENCH}: skipped ({exc})", file=sys.stderr)
        return []
    direct = _direct(model, python)
    with tempfile.TemporaryDirectory(prefix="privproc-generative-bench-") as tmp:
        path = _path(model, python, Path(tmp))
    note = f"SmolLM2-135M Q4_1, {len(DRAFTS)} drafts, tone {TONE}, 2 nodes"
    direct_rate, path_rate = len(DRAFTS) / sum(direct), len(DRAFTS) / sum(path)
    p50_path, p50_direct = statistics.median(path), statistics.median(direct)
    return [
        row(BENCH, "rewrites/s, private path", path_rate, "1/s", "direct", direct_rate, note),
        row(
            BENCH,
            "time to answer p50, private path",
            p50_path,
            "s",
            "direct",
            p50_direct,
            f"path - direct = {1000 * (p50_path - p50_direct):.0f} ms (whole answers)",
        ),
    ]
