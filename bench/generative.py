"""A generative node's cost: the same writing work through the private path vs direct.

What runs, when ``.venv-llama`` (scripts/install-llama.sh) has llama-cpp-python and the
SmolLM2-135M GGUF: a real cluster started as ``privproc up --model`` starts it (2 nodes,
K = 2, each with its own loopback llama.cpp server, privproc.inference.llama_server),
driven by the device SDK; and, as the baseline in the same run, one llama.cpp server
started the same way (privproc.enclave.generative.start_generative) with the node's own
feature code (``run_feature``) called on it in this process: the same prompts, the same
tokens (temperature 0, seed 0), no relay, gateway, OHTTP, token, sealing or fork.

Figures:
- rewrite throughput (professional tone, DRAFTS drafts, ROUNDS times, direct and private
  alternating draft by draft): path / direct. Both generate the same tokens, so this is the
  private path's share of the direct tokens/s (target 0.95).
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
from collections.abc import Callable
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
ROUNDS = 2
#: Warm-up requests each way: the gateway picks either node, each with its own server.
WARM = 4


def _payload(draft: str) -> bytes:
    body = {"feature": "rewrite", "draft": draft, "tones": [TONE], "language": "en"}
    return json.dumps(body).encode()


def _timed(call: Callable[[str], None], draft: str) -> float:
    start = time.perf_counter()
    call(draft)
    return time.perf_counter() - start


def _both(model: Path, python: str, root: Path) -> tuple[list[float], list[float]]:
    """Each draft's time to its whole answer, direct and through the private path, the
    two alternating draft by draft (``ROUNDS`` times), so a drift of the machine hits both
    alike."""
    gm = start_generative(model=model, embedder=load_default_backend(), python=python)
    spec = ClusterSpec(nodes=2, k=2, model=model, llama_python=python, request_timeout=600.0)
    try:
        with Cluster(root / "cluster", spec) as cluster:
            config = cluster.start()
            home = root / "device"
            home.mkdir(mode=0o700)
            challenge = TokenChallenge(TOKEN_TYPE_BLIND_RSA, config.issuer_name, b"", config.origin)
            tokens = IssuerTokens(config.issuer_url, "bench-generative", challenge, home)
            device = Device(config, home, tokens)

            def direct(draft: str) -> None:
                out = json.loads(run_feature(_payload(draft), gm.backend))
                assert "error" not in out, out

            def private(draft: str) -> None:
                device.rewrite(draft, [TONE], "en")

            try:
                for _ in range(WARM):  # warm: verify, tokens, both nodes' servers
                    direct(DRAFTS[0])
                    private(DRAFTS[0])
                times: tuple[list[float], list[float]] = ([], [])
                for _ in range(ROUNDS):
                    for draft in DRAFTS:
                        times[0].append(_timed(direct, draft))
                        times[1].append(_timed(private, draft))
            finally:
                device.close()
                tokens.close()
    finally:
        gm.stop()
    return times


def run() -> list[Row]:
    python = llama_python()
    try:
        model = packaged_gguf(python)
    except ConfigError as exc:
        print(f"{BENCH}: skipped ({exc})", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory(prefix="privproc-generative-bench-") as tmp:
        direct, path = _both(model, python, Path(tmp))
    note = f"SmolLM2-135M Q4_1, {len(DRAFTS)} drafts x {ROUNDS}, tone {TONE}, 2 nodes, alternating"
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
