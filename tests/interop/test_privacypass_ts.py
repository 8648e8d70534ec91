"""Interop with an independent implementation: Cloudflare's @cloudflare/privacypass-ts (npm).

1. Its client obtains type 0x0002 tokens from our issuer (a real process, real socket) and
   verifies them with its own Origin; our redeemer accepts the same tokens once.
2. The reverse: our client obtains tokens from its issuer; its issuer verifies them, and so
   do we.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from privproc.client.issuer_http import HttpIssuer
from privproc.client.wallet import TokenClient, TokenWallet
from privproc.stores.spent import SqliteSpentStore
from privproc.tokens import http_auth, issuance
from privproc.tokens.blind_rsa import PrivateKey
from privproc.tokens.protocol import Token, TokenChallenge, TokenKey
from privproc.tokens.redeem import Redeemer
from tests._servers import free_port, http_ok, running_server
from tests.interop._node import HERE, ensure_node_modules
from tests.system._issuer import issuer_process

COUNT = 3


@pytest.mark.interop
@pytest.mark.system
def test_their_client_our_issuer(tmp_path: Path) -> None:
    node = ensure_node_modules()
    with issuer_process(tmp_path / "issuer", "--open", "--quota", "10") as url:
        done = subprocess.run(
            [node, "pp_client.mjs", url, "issuer.example", "gateway.example", str(COUNT)],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        ours = HttpIssuer(url)
        directory = ours.directory()
        ours.close()
    assert len(lines) == COUNT
    assert all(line["verified"] is True for line in lines)
    [our_key] = directory.usable_keys(time.time())
    assert bytes.fromhex(lines[0]["token_key"]) == our_key.spki
    challenge = TokenChallenge.decode(bytes.fromhex(lines[0]["challenge"]))
    assert challenge == TokenChallenge(2, "issuer.example", b"", "gateway.example")
    redeemer = Redeemer((our_key,), (challenge,), SqliteSpentStore(tmp_path / "spent.db"))
    for line in lines:
        token = Token.decode(bytes.fromhex(line["token"]))
        redeemer.redeem(token, now=time.time())


@pytest.mark.interop
@pytest.mark.system
def test_our_client_their_issuer(tmp_path: Path) -> None:
    node = ensure_node_modules()
    port = free_port()
    args = [node, "pp_issuer.mjs", str(port), "issuer.example"]
    url = f"http://127.0.0.1:{port}"
    ready = http_ok(url + "/.well-known/private-token-issuer-directory")
    log = tmp_path / "pp_issuer.log"
    with running_server(args, ready, what="privacypass-ts issuer", cwd=HERE, log=log):
        transport = HttpIssuer(url)
        challenge = TokenChallenge(2, "issuer.example", b"", "gateway.example")
        client = TokenClient(TokenWallet(tmp_path / "device"), transport, challenge, batch=COUNT)
        assert client.refill(time.time()) == COUNT
        [their_key] = transport.directory().usable_keys(time.time())
        tokens = [client.wallet.take(challenge) for _ in range(COUNT)]
        for token in tokens:
            assert token is not None
            issuance.verify_token(token, their_key)
            r = httpx.post(f"{url}/verify", content=token.encode(), timeout=30)
            assert r.status_code == 200
        # Their issuer refuses a token whose signature we broke.
        assert tokens[0] is not None
        bad = bytearray(tokens[0].encode())
        bad[-1] ^= 1
        assert httpx.post(f"{url}/verify", content=bytes(bad), timeout=30).status_code == 403
        # Their token key is the RFC 9578 §6.5 SPKI, byte for byte what we would write.
        assert TokenKey.from_public_key(their_key.public_key).spki == their_key.spki
        transport.close()


@pytest.mark.interop
def test_headers_both_ways(tmp_path: Path) -> None:
    node = ensure_node_modules()
    pair = issuance.IssuerKeyPair.from_private_key(PrivateKey.generate(2048))
    challenge = TokenChallenge(2, "issuer.example", b"\x05" * 32, "gateway.example")
    request, pending = issuance.begin(pair.token_key, challenge)
    token = issuance.finish(pending, issuance.evaluate([pair], request))
    header = http_auth.format_challenge(challenge, pair.token_key.spki, max_age=30)
    done = subprocess.run(
        [node, "pp_headers.mjs", f"Basic realm=x, {header}", token.encode().hex()],
        cwd=HERE,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    # They read our WWW-Authenticate.
    assert out["challenges"] == [
        {
            "challenge": challenge.encode().hex(),
            "token_key": pair.token_key.spki.hex(),
            "max_age": 30,
        }
    ]
    assert out["roundtrip_ok"] is True
    # We read their Authorization and WWW-Authenticate values, quoted or not.
    for value in (out["authorization_quoted"], out["authorization_bare"]):
        assert http_auth.parse_authorization(value) == token
    for value in (out["www_authenticate_quoted"], out["www_authenticate_bare"]):
        [parsed] = http_auth.parse_www_authenticate(value)
        assert parsed.challenge == challenge
        assert parsed.token_key == pair.token_key.spki
