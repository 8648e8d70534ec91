"""The issuer as a real process on a loopback socket: issuance, quota, redemption, unlinkability."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.client.issuer_http import DeviceIdentity, HttpIssuer
from privproc.client.wallet import TokenClient, TokenWallet
from privproc.errors import RemoteError, ReplayError
from privproc.stores.spent import SqliteSpentStore
from privproc.tokens import issuance
from privproc.tokens.protocol import (
    DIRECTORY_MEDIA_TYPE,
    DIRECTORY_PATH,
    REQUEST_MEDIA_TYPE,
    RESPONSE_MEDIA_TYPE,
    TokenChallenge,
    TokenResponse,
)
from privproc.tokens.redeem import Redeemer, spent_key
from tests._redis import redis_url
from tests.system._issuer import issuer_process

__all__ = ["redis_url"]

CHALLENGE = TokenChallenge(2, "issuer.example", b"", "gateway.example")
QUOTA = 5


def _all_db_values(path: Path) -> set[bytes]:
    """Every cell of every table of a SQLite file, as bytes."""
    values: set[bytes] = set()
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            for row in db.execute(f"SELECT * FROM {table}"):
                for cell in row:
                    if isinstance(cell, bytes):
                        values.add(cell)
                    elif cell is not None:
                        values.add(str(cell).encode())
    finally:
        db.close()
    return values


@pytest.mark.system
def test_issue_quota_redeem_unlinkable(tmp_path: Path) -> None:
    home = tmp_path / "issuer"
    log = tmp_path / "issuer.log"
    with issuer_process(home, "--quota", str(QUOTA), log=log) as url:
        # The directory and the RFC 9578 media types, over a real socket.
        r = httpx.get(url + DIRECTORY_PATH)
        assert r.status_code == 200
        assert r.headers["content-type"] == DIRECTORY_MEDIA_TYPE

        identity = DeviceIdentity("alice@example", Ed25519PrivateKey.generate())
        transport = HttpIssuer(url, identity=identity)
        transport.register()
        wallet = TokenWallet(tmp_path / "device")
        client = TokenClient(wallet, transport, CHALLENGE, batch=QUOTA, low_water=2)

        # A batch up to the quota; the (N+1)th token of the day is refused with 429.
        assert client.refill(time.time()) == QUOTA
        assert wallet.count(CHALLENGE) == QUOTA
        with pytest.raises(RemoteError) as info:
            client.refill(time.time(), count=1)
        assert info.value.status == 429
        assert info.value.problem == "quota-exceeded"

        # Unauthenticated and malformed requests over the socket.
        raw = httpx.post(
            url + "/token-request",
            content=b"\x00\x02",
            headers={"content-type": REQUEST_MEDIA_TYPE},
        )
        assert raw.status_code == 401
        directory = transport.directory()
        keys = directory.usable_keys(time.time())

        # Spend every token at a gateway-like redeemer, each exactly once.
        (tmp_path / "gateway").mkdir()
        store = SqliteSpentStore(tmp_path / "gateway" / "spent.db")
        redeemer = Redeemer(keys, (CHALLENGE,), store)
        tokens = [client.wallet.take(CHALLENGE) for _ in range(QUOTA)]
        assert all(t is not None for t in tokens)
        for t in tokens:
            assert t is not None
            redeemer.redeem(t, now=time.time())
        assert tokens[0] is not None
        with pytest.raises(ReplayError):
            redeemer.redeem(tokens[0], now=time.time())
        store.close()
        transport.close()
        wallet.close()

    # Unlinkability: what the issuer stores and what the redeemer stores share no value,
    # and the issuer holds nothing derived from the tokens it signed.
    issuer_values: set[bytes] = set()
    for db in home.glob("*.db"):
        issuer_values |= _all_db_values(db)
    redeemer_values = _all_db_values(tmp_path / "gateway" / "spent.db")
    assert b"alice@example" in issuer_values  # the issuer does know the account...
    assert redeemer_values  # ...and the redeemer does know the spent tokens
    assert not issuer_values & redeemer_values
    token_material = set()
    for t in tokens:
        assert t is not None
        token_material |= {t.nonce, t.authenticator, t.encode(), spent_key(t)}
    for value in issuer_values:
        for secret in token_material:
            assert secret not in value
    issuer_files = b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
    for t in tokens:
        assert t is not None
        assert t.nonce not in issuer_files
        assert t.authenticator[:32] not in issuer_files
    # The issuer's log names no account and no token.
    text = log.read_bytes()
    assert b"alice" not in text
    assert all(t is not None and t.nonce.hex().encode() not in text for t in tokens)


@pytest.mark.system
def test_open_mode_partial_refill(tmp_path: Path) -> None:
    with issuer_process(tmp_path / "issuer", "--open", "--quota", "3") as url:
        transport = HttpIssuer(url)
        directory = transport.directory()
        [key] = directory.usable_keys(time.time())
        request, pending = issuance.begin(key, CHALLENGE)
        r = httpx.post(
            url + directory.issuer_request_uri,
            content=request.encode(),
            headers={"content-type": REQUEST_MEDIA_TYPE},
        )
        assert r.status_code == 200
        assert r.headers["content-type"] == RESPONSE_MEDIA_TYPE
        issuance.finish(pending, TokenResponse.decode(r.content))

        # The wallet asks for 3, gets 2 before the quota refuses, keeps them and goes on.
        wallet = TokenWallet(tmp_path / "device")
        client = TokenClient(wallet, transport, CHALLENGE, batch=3, low_water=1)
        token = client.token(time.time())
        assert token.challenge_digest == CHALLENGE.digest()
        assert wallet.count(CHALLENGE) == 1
        transport.close()
        wallet.close()


@pytest.mark.system
def test_two_issuers_share_keys_and_redis_quota(tmp_path: Path, redis_url: str) -> None:
    home = tmp_path / "issuer"
    args = ("--quota", "4", "--redis", redis_url)
    with issuer_process(home, *args) as url_a, issuer_process(home, *args) as url_b:
        identity = DeviceIdentity("bob@example", Ed25519PrivateKey.generate())
        a = HttpIssuer(url_a, identity=identity)
        b = HttpIssuer(url_b, identity=identity)
        a.register()
        assert a.directory() == b.directory()  # one key folder, one key
        wallet = TokenWallet(tmp_path / "device")
        assert TokenClient(wallet, a, CHALLENGE, batch=2, low_water=1).refill(time.time()) == 2
        assert TokenClient(wallet, b, CHALLENGE, batch=4, low_water=1).refill(time.time()) == 2
        with pytest.raises(RemoteError) as info:
            TokenClient(wallet, a, CHALLENGE, batch=5, low_water=1).refill(time.time())
        assert info.value.status == 429
        assert wallet.count(CHALLENGE) == 4
        a.close()
        b.close()
        wallet.close()


@pytest.mark.system
def test_replayed_token_request_refused_by_both_issuers_on_redis(
    tmp_path: Path, redis_url: str
) -> None:
    """Issue 12 item 2 over real sockets: a captured signed token request replayed to
    either of two issuer processes sharing a Redis quota store is refused (403,
    ``issuer.replay``) and not counted."""
    from privproc.issuer.app import REQUEST_PATH
    from privproc.tokens import device_auth

    home = tmp_path / "issuer"
    args = ("--quota", "3", "--redis", redis_url)
    with issuer_process(home, *args) as url_a, issuer_process(home, *args) as url_b:
        key = Ed25519PrivateKey.generate()
        a = HttpIssuer(url_a, identity=DeviceIdentity("replayed@example", key))
        a.register()
        [token_key] = a.directory().usable_keys(time.time())
        request, _ = issuance.begin(token_key, CHALLENGE)
        body = request.encode()
        headers = {
            "content-type": REQUEST_MEDIA_TYPE,
            "authorization": device_auth.sign("replayed@example", key, body, now=time.time()),
        }
        assert httpx.post(url_a + REQUEST_PATH, content=body, headers=headers).status_code == 200
        for url in (url_b, url_a):
            replay = httpx.post(url + REQUEST_PATH, content=body, headers=headers)
            assert replay.status_code == 403
            assert replay.headers["content-type"] == "application/problem+json"
            assert replay.json()["detail"].startswith("issuer.replay:")
        # Not counted: two fresh requests still fit the quota of 3, the next does not.
        wallet = TokenWallet(tmp_path / "device")
        assert TokenClient(wallet, a, CHALLENGE, batch=2, low_water=1).refill(time.time()) == 2
        empty = TokenWallet(tmp_path / "device-2")
        with pytest.raises(RemoteError) as info:
            TokenClient(empty, a, CHALLENGE, batch=1, low_water=1).refill(time.time())
        assert info.value.status == 429
        a.close()
        wallet.close()
        empty.close()
