"""The device wallet and token clients, against the real issuer app in memory."""

from __future__ import annotations

import time
from pathlib import Path
from typing import cast

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from privproc.client.issuer_http import DeviceIdentity, HttpIssuer
from privproc.client.wallet import TokenClient, TokenWallet
from privproc.errors import MisuseError, RemoteError
from privproc.issuer.app import IssuerConfig, IssuerService, create_app
from privproc.tokens import issuance
from privproc.tokens.protocol import TokenChallenge

CHALLENGE = TokenChallenge(2, "issuer.example", b"", "gateway.example")
OTHER = TokenChallenge(2, "issuer.example", b"", "other.example")


@pytest.fixture
def service(tmp_path: Path) -> IssuerService:
    return IssuerService(IssuerConfig(home=tmp_path / "issuer", quota_per_day=8))


def _sync_transport(service: IssuerService, identity: DeviceIdentity | None) -> HttpIssuer:
    # starlette's TestClient is an httpx2.Client, API-compatible with the httpx.Client asked for.
    client = cast(httpx.Client, TestClient(create_app(service)))
    return HttpIssuer("http://issuer", identity=identity, client=client)


def test_wallet_keeps_tokens_per_challenge(tmp_path: Path, service: IssuerService) -> None:
    identity = DeviceIdentity("alice", Ed25519PrivateKey.generate())
    transport = _sync_transport(service, identity)
    transport.register()
    wallet = TokenWallet(tmp_path / "device")
    client = TokenClient(wallet, transport, CHALLENGE, batch=4, low_water=2)
    assert client.refill(time.time()) == 4
    assert wallet.count(CHALLENGE) == 4
    assert wallet.count(OTHER) == 0
    assert wallet.take(OTHER) is None
    # A second handle on the same file (another process) never gets the same token.
    other_handle = TokenWallet(tmp_path / "device")
    a, b = wallet.take(CHALLENGE), other_handle.take(CHALLENGE)
    assert a is not None
    assert b is not None
    assert a != b
    assert wallet.count(CHALLENGE) == 2
    assert client.token(time.time()) is not None  # 2 left, not below low_water: no refill
    assert wallet.count(CHALLENGE) == 1
    # Below the threshold, the next token first refills up to the batch.
    first = client.token(time.time())
    assert wallet.count(CHALLENGE) == 3
    keys = transport.directory().usable_keys(time.time())
    issuance.verify_token(first, keys[0])
    # Tokens under a key the directory no longer lists are dropped.
    assert wallet.retain_keys(set()) == 3
    assert wallet.count(CHALLENGE) == 0
    wallet.close()
    other_handle.close()


def test_client_without_registration_is_refused(tmp_path: Path, service: IssuerService) -> None:
    transport = _sync_transport(service, DeviceIdentity("bob", Ed25519PrivateKey.generate()))
    client = TokenClient(TokenWallet(tmp_path / "d"), transport, CHALLENGE)
    with pytest.raises(RemoteError) as info:
        client.token(time.time())
    assert info.value.status == 401
    assert info.value.problem == "unauthorized"


def test_unreachable_issuer(tmp_path: Path) -> None:
    transport = HttpIssuer("http://127.0.0.1:9", client=httpx.Client(timeout=0.5))
    client = TokenClient(TokenWallet(tmp_path / "d"), transport, CHALLENGE)
    with pytest.raises(RemoteError) as info:
        client.token(time.time())
    assert info.value.status == 0


def test_client_misuse(tmp_path: Path, service: IssuerService) -> None:
    transport = _sync_transport(service, None)
    with pytest.raises(MisuseError):
        TokenClient(TokenWallet(tmp_path / "d"), transport, CHALLENGE, batch=2, low_water=3)


def test_register_without_identity_is_misuse(service: IssuerService) -> None:
    with pytest.raises(MisuseError, match="no device identity"):
        _sync_transport(service, None).register()


def test_refill_keeps_what_it_got_before_a_refusal(tmp_path: Path, service: IssuerService) -> None:
    """The quota (8 a day) ends a batch of 10 quietly; the next refill gets nothing: 429."""
    identity = DeviceIdentity("dave", Ed25519PrivateKey.generate())
    transport = _sync_transport(service, identity)
    transport.register()
    client = TokenClient(TokenWallet(tmp_path / "d"), transport, CHALLENGE, batch=10)
    assert client.refill(time.time()) == 8
    assert client.wallet.count(CHALLENGE) == 8
    with pytest.raises(RemoteError) as info:
        client.refill(time.time())
    assert info.value.status == 429
    assert client.wallet.count(CHALLENGE) == 8
    other = _sync_transport(service, identity)
    wallet = TokenWallet(tmp_path / "e")
    with pytest.raises(RemoteError):  # same account, quota already used up
        TokenClient(wallet, other, CHALLENGE, batch=2, low_water=1).refill(time.time())
    assert wallet.count(CHALLENGE) == 0


def test_identity_and_credentials_are_immutable_values() -> None:
    import dataclasses

    from privproc.tokens import device_auth

    identity = DeviceIdentity("erin", Ed25519PrivateKey.generate())
    header = device_auth.sign(identity.account, identity.key, b"body", now=1000.0)
    creds = device_auth.parse(header)
    assert (creds.account, creds.ts) == ("erin", 1000)
    for value, attr in ((identity, "account"), (creds, "account")):
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(value, attr, "mallory")
