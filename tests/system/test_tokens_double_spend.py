"""Double spend across gateway-like processes sharing one real Redis: exactly one wins."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from privproc.tokens import issuance
from privproc.tokens.blind_rsa import PrivateKey
from privproc.tokens.protocol import TokenChallenge
from tests._redis import redis_url

__all__ = ["redis_url"]

ROOT = Path(__file__).resolve().parents[2]
WORKERS = 4


@pytest.mark.system
def test_one_token_many_gateways(redis_url: str, tmp_path: Path) -> None:
    pair = issuance.IssuerKeyPair.from_private_key(PrivateKey.generate(2048))
    challenge = TokenChallenge(2, "issuer.example", b"", "gateway.example")
    request, pending = issuance.begin(pair.token_key, challenge)
    token = issuance.finish(pending, issuance.evaluate([pair], request))
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
    args = [
        sys.executable,
        "-m",
        "tests.system._redeem_worker",
        redis_url,
        pair.token_key.spki.hex(),
        challenge.encode().hex(),
        token.encode().hex(),
        str(go),
    ]
    procs = [
        subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(WORKERS)
    ]
    try:
        deadline = time.monotonic() + 30
        while len(list(tmp_path.glob("go.ready-*"))) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.02)
        go.touch()
        outs = [p.communicate(timeout=60)[0].strip() for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait(timeout=5)
    assert sorted(outs) == ["redeemed"] + ["replay"] * (WORKERS - 1)
