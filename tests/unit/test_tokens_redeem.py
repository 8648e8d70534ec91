"""Redemption: verify against active keys and accepted challenges, then spend once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from privproc.errors import MisuseError, ReplayError, StoreError, TokenError
from privproc.stores.spent import RedisSpentStore, SqliteSpentStore
from privproc.tokens import http_auth, issuance
from privproc.tokens.blind_rsa import PrivateKey
from privproc.tokens.protocol import Token, TokenChallenge
from privproc.tokens.redeem import Redeemer, spent_key
from tests._redis import free_port

CHALLENGE = TokenChallenge(2, "issuer.example", b"", "gateway.example")


@pytest.fixture(scope="module")
def pair() -> issuance.IssuerKeyPair:
    return issuance.IssuerKeyPair.from_private_key(PrivateKey.generate(2048))


def _token(pair: issuance.IssuerKeyPair, challenge: TokenChallenge = CHALLENGE) -> Token:
    request, pending = issuance.begin(pair.token_key, challenge)
    return issuance.finish(pending, issuance.evaluate([pair], request))


@pytest.fixture
def redeemer(pair: issuance.IssuerKeyPair, tmp_path: Path) -> Redeemer:
    return Redeemer((pair.token_key,), (CHALLENGE,), SqliteSpentStore(tmp_path / "spent.db"))


def test_redeems_once(pair: issuance.IssuerKeyPair, redeemer: Redeemer) -> None:
    token = _token(pair)
    now = time.time()
    redeemed = redeemer.redeem(token, now=now)
    assert redeemed.challenge == CHALLENGE
    assert redeemed.token_key_id == pair.token_key.key_id
    with pytest.raises(ReplayError):
        redeemer.redeem(token, now=now)
    with pytest.raises(ReplayError):
        redeemer.redeem_header(http_auth.format_authorization(token), now=now)


def test_refuses_other_challenge(pair: issuance.IssuerKeyPair, redeemer: Redeemer) -> None:
    other = TokenChallenge(2, "issuer.example", b"", "elsewhere.example")
    with pytest.raises(TokenError) as info:
        redeemer.redeem(_token(pair, other), now=time.time())
    assert info.value.check == "token.challenge"


def test_refuses_unknown_key(redeemer: Redeemer) -> None:
    stranger = issuance.IssuerKeyPair.from_private_key(PrivateKey.generate(2048))
    with pytest.raises(TokenError) as info:
        redeemer.redeem(_token(stranger), now=time.time())
    assert info.value.check == "token.key_id"


def test_refuses_forged_and_does_not_spend(
    pair: issuance.IssuerKeyPair, redeemer: Redeemer
) -> None:
    token = _token(pair)
    forged = Token(token.nonce, token.challenge_digest, token.token_key_id, b"\x01" * 256)
    with pytest.raises(TokenError) as info:
        redeemer.redeem(forged, now=time.time())
    assert info.value.check == "token.authenticator"
    redeemer.redeem(token, now=time.time())  # the forgery did not burn the real token's nonce


def test_key_rotation(pair: issuance.IssuerKeyPair, redeemer: Redeemer) -> None:
    new = issuance.IssuerKeyPair.from_private_key(PrivateKey.generate(2048))
    both = redeemer.with_keys([pair.token_key, new.token_key])
    both.redeem(_token(new), now=time.time())
    both.redeem(_token(pair), now=time.time())
    only_new = redeemer.with_keys([new.token_key])
    with pytest.raises(TokenError):
        only_new.redeem(_token(pair), now=time.time())


def test_store_down_fails_closed(pair: issuance.IssuerKeyPair) -> None:
    store = RedisSpentStore(f"redis://127.0.0.1:{free_port()}/0", socket_timeout=0.5)
    r = Redeemer((pair.token_key,), (CHALLENGE,), store)
    with pytest.raises(StoreError):
        r.redeem(_token(pair), now=time.time())


def test_spent_key_hides_token(pair: issuance.IssuerKeyPair) -> None:
    token = _token(pair)
    key = spent_key(token)
    assert len(key) == 32
    assert token.nonce not in key
    assert spent_key(_token(pair)) != key


def test_misuse(pair: issuance.IssuerKeyPair, tmp_path: Path) -> None:
    store = SqliteSpentStore(tmp_path / "s.db")
    with pytest.raises(MisuseError):
        Redeemer((), (CHALLENGE,), store)
    with pytest.raises(MisuseError):
        Redeemer((pair.token_key,), (), store)
    with pytest.raises(MisuseError):
        Redeemer((pair.token_key,), (TokenChallenge(1, "i"),), store)
