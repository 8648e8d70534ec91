"""Starting a gateway: issuer keys, spent store, key configs recorded in the ledger."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.errors import ConfigError, StoreError
from privproc.gateway.app import GatewayConfig, Redeemer, create_app
from privproc.gateway.keys import ActiveKey, GatewayKeys
from privproc.gateway.routing import NodeMap
from privproc.ledger.records import KeyConfigRecord, encode_record, sign_record
from privproc.ledger_service.client import LedgerClient
from privproc.stores.spent import RedisSpentStore, SqliteSpentStore
from privproc.tokens.protocol import (
    DIRECTORY_PATH,
    TOKEN_TYPE_BLIND_RSA,
    IssuerDirectory,
    TokenChallenge,
)
from privproc.tokens.redeem import Redeemer as TokenRedeemer
from privproc.tokens.spent import SpentStore

__all__ = ["GatewaySetup", "challenge_for", "load_publisher", "make_redeemer", "run_gateway"]


def challenge_for(issuer_name: str, origin: str) -> TokenChallenge:
    """The one challenge this gateway accepts (RFC 9577 §2.1; empty redemption context)."""
    return TokenChallenge(TOKEN_TYPE_BLIND_RSA, issuer_name, b"", origin)


def load_publisher(path: Path) -> tuple[str, Ed25519PrivateKey]:
    """A publisher key file: ``NAME`` newline ``hex(raw Ed25519 private key)``."""
    try:
        name, key_hex = path.read_text(encoding="utf-8").split()
        return name, Ed25519PrivateKey.from_private_bytes(bytes.fromhex(key_hex))
    except (OSError, ValueError):
        raise ConfigError(f"publisher key unreadable: {path}") from None


@dataclass(frozen=True, slots=True)
class GatewaySetup:
    """Everything a gateway needs from outside: where, who, and which stores.

    ``repr()`` leaves out the ledger's append token and the Redis URL (it may hold a password).
    """

    nodes: tuple[str, ...]
    issuer_url: str
    issuer_name: str
    origin: str
    ledger_url: str
    ledger_token: str = field(repr=False)
    publisher: Path
    spent: Path
    key_lifetime: int = 3600
    active: int = 2
    #: A Redis URL for a spent-token store shared by several gateway replicas;
    #: ``None`` keeps spent tokens in ``spent`` (SQLite).
    redis_url: str | None = field(default=None, repr=False)


def _record_in_ledger(setup: GatewaySetup) -> Callable[[ActiveKey], None]:
    name, key = load_publisher(setup.publisher)

    def on_new(entry: ActiveKey) -> None:
        record = KeyConfigRecord(entry.key.config.encode(), entry.not_before, entry.not_after)
        data = encode_record(sign_record(record, name, key))
        with LedgerClient(setup.ledger_url, token=setup.ledger_token) as client:
            client.add(data)

    return on_new


def _issuer_keys(setup: GatewaySetup) -> IssuerDirectory:
    url = setup.issuer_url.rstrip("/") + DIRECTORY_PATH
    try:
        answer = httpx.get(url, timeout=10)
    except httpx.HTTPError:
        raise StoreError("issuer directory unreachable") from None
    if answer.status_code != 200:
        raise StoreError(f"issuer directory answered HTTP {answer.status_code}")
    return IssuerDirectory.from_json(answer.content)


def make_redeemer(setup: GatewaySetup, store: SpentStore) -> Redeemer:
    """The gateway's redeem step: verify the token, spend it once (privproc.tokens.redeem)."""
    challenge = challenge_for(setup.issuer_name, setup.origin)
    state = {
        "redeemer": TokenRedeemer(_issuer_keys(setup).usable_keys(time.time()), (challenge,), store)
    }
    refreshed = {"at": time.time()}

    async def redeem(authorization: str) -> None:
        now = time.time()
        if now - refreshed["at"] > 300:
            refreshed["at"] = now
            directory = await asyncio.to_thread(_issuer_keys, setup)
            state["redeemer"] = state["redeemer"].with_keys(directory.usable_keys(now))
        state["redeemer"].redeem_header(authorization, now=now)

    return redeem


def run_gateway(setup: GatewaySetup, host: str, port: int, *, nodes: NodeMap | None = None) -> None:
    """Run the gateway until interrupted (``nodes``: a routing table, for tests)."""
    from privproc._http import serve

    on_new = _record_in_ledger(setup)
    keys = GatewayKeys(lifetime=setup.key_lifetime, active=setup.active, on_new=on_new)
    keys.tick(int(time.time()))
    store: SpentStore = (
        RedisSpentStore(setup.redis_url) if setup.redis_url else SqliteSpentStore(setup.spent)
    )
    config = GatewayConfig(nodes=setup.nodes)
    serve(create_app(config, keys, make_redeemer(setup, store), nodes=nodes), host, port)
