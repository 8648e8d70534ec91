"""Starting a gateway: issuer keys, spent store, key configs recorded in the ledger."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.errors import ConfigError, NotReadyError, PrivprocError, StoreError
from privproc.gateway.app import GatewayConfig, Redeemer, create_app
from privproc.gateway.kek import load_kek
from privproc.gateway.keyfile import load_keys, save_keys
from privproc.gateway.keys import ActiveKey, GatewayKeys
from privproc.gateway.routing import NodeMap
from privproc.gateway.shared import SharedKeys
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.keyconsistency import recorded_configs
from privproc.ledger.note import Ed25519Signer, Note
from privproc.ledger.records import KeyConfigRecord, encode_record, sign_record
from privproc.ledger_service.client import LedgerClient
from privproc.ohttp import KeyConfig
from privproc.stores.keyseq import (
    KeySequenceStore,
    PostgresKeySequenceStore,
    RedisKeySequenceStore,
)
from privproc.stores.spent import RedisSpentStore, SqliteSpentStore
from privproc.tokens.protocol import (
    DIRECTORY_PATH,
    TOKEN_TYPE_BLIND_RSA,
    IssuerDirectory,
    TokenChallenge,
)
from privproc.tokens.redeem import Redeemer as TokenRedeemer
from privproc.tokens.spent import SpentStore

__all__ = [
    "GatewaySetup",
    "challenge_for",
    "first_start",
    "load_publisher",
    "make_redeemer",
    "run_gateway",
    "shared_keys",
]

_log = logging.getLogger("privproc.gateway")


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
    #: Seconds a new key config is recorded before it starts (the key-consistency rule,
    #: rule 4): more than the devices' cosignature max age plus skew (600 + 300 by default).
    key_announce: int = 1200
    #: Where the key sequence survives a restart (mode 0600); ``None``: memory only.
    keys_file: Path | None = None
    #: A Redis URL for a spent-token store shared by several gateway replicas;
    #: ``None`` keeps spent tokens in ``spent`` (SQLite).
    redis_url: str | None = field(default=None, repr=False)
    #: Seconds to wait for a node's answer.
    node_timeout: float = 60.0
    #: This replica's name when several gateways share one key sequence in Redis
    #: (``redis_url`` then required, and a KEK from ``kek_file`` or the environment);
    #: ``None``: this gateway keeps its own sequence in ``keys_file``.
    replica: str | None = None
    kek_file: Path | None = None
    #: A postgresql:// URL for the shared key sequence and its lease instead of Redis.
    keys_database: str | None = field(default=None, repr=False)
    #: Seconds a replica waits at start for the shared sequence's first recorded key.
    shared_wait: float = 60.0


def _record_in_ledger(setup: GatewaySetup) -> Callable[[ActiveKey], None]:
    name, key = load_publisher(setup.publisher)

    def on_new(entry: ActiveKey) -> None:
        record = KeyConfigRecord(entry.key.config.encode(), entry.not_before, entry.not_after)
        data = encode_record(sign_record(record, name, key))
        with LedgerClient(setup.ledger_url, token=setup.ledger_token) as client:
            client.add(data)

    return on_new


def first_start(setup: GatewaySetup, now: int) -> tuple[int, int]:
    """When this gateway's first key may start without breaking the key-consistency
    rule, and its key id (one after the last recorded, so a device holding an older
    config is told "unknown key" rather than failing to open).

    ``now`` when no recorded config is still valid (a new run needs no announcement);
    otherwise the earliest start that keeps rules 1 and 2 and is announced
    ``key_announce`` seconds ahead (rule 4): a gateway that lost its keys waits.
    """
    name, key = load_publisher(setup.publisher)
    publisher = Ed25519Signer(name, key).verifier()
    with LedgerClient(setup.ledger_url) as client:
        size = Checkpoint.parse(Note.decode(client.checkpoint()).text).size
        configs = recorded_configs(client.fetch_entries(size), publisher)
    live = [c for c in configs if not c.revoked]
    key_id = 1
    if configs:
        key_id = (KeyConfig.decode(configs[-1].record.key_config).key_id + 1) % 256
    if not any(c.not_after > now for c in configs):
        return now, key_id
    start = now + setup.key_announce
    if live:
        start = max(start, live[-1].not_before + 1)
    if len(live) >= 2:
        start = max(start, live[-2].not_after)
    _log.warning(
        "the ledger holds key configs this gateway has no key for: first key starts in %ds",
        start - now,
    )
    return start, key_id


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
            try:
                directory = await asyncio.to_thread(_issuer_keys, setup)
            except PrivprocError as exc:  # keep the keys we have; try again in 300 s
                _log.warning("issuer key refresh failed: %s", exc.code)
            else:
                state["redeemer"] = state["redeemer"].with_keys(directory.usable_keys(now))
        # The spent store is a blocking SQLite or Redis call: off the event loop.
        await asyncio.to_thread(state["redeemer"].redeem_header, authorization, now=now)

    return redeem


def shared_keys(setup: GatewaySetup) -> SharedKeys:
    """The replicas' shared key sequence (issue 16), loaded: it holds a recorded key.

    Waits up to ``shared_wait`` seconds for the lease holder (maybe this replica) to make
    and record the first key; NotReadyError if none comes."""
    if setup.replica is None or setup.redis_url is None:
        raise ConfigError("a gateway replica needs --replica and --redis")
    kek = load_kek(setup.kek_file)
    store: KeySequenceStore = (
        PostgresKeySequenceStore(setup.keys_database)
        if setup.keys_database
        else RedisKeySequenceStore(setup.redis_url)
    )
    keys = SharedKeys(
        store,
        kek,
        replica=setup.replica,
        lifetime=setup.key_lifetime,
        announce=setup.key_announce,
        record=_record_in_ledger(setup),
        first_start=partial(first_start, setup),
    )
    deadline = time.monotonic() + setup.shared_wait
    while True:
        keys.tick(int(time.time()))
        if keys.configs:
            return keys
        if time.monotonic() > deadline:
            raise NotReadyError("no recorded key in the shared key sequence yet")
        time.sleep(0.25)


def run_gateway(setup: GatewaySetup, host: str, port: int, *, nodes: NodeMap | None = None) -> None:
    """Run the gateway until interrupted (``nodes``: a routing table, for tests)."""
    from privproc._http import serve

    store: SpentStore = (
        RedisSpentStore(setup.redis_url) if setup.redis_url else SqliteSpentStore(setup.spent)
    )
    config = GatewayConfig(nodes=setup.nodes, node_timeout=setup.node_timeout)
    if setup.replica is not None:
        shared = shared_keys(setup)
        serve(create_app(config, shared, make_redeemer(setup, store), nodes=nodes), host, port)
        return
    on_new = _record_in_ledger(setup)
    saved = [] if setup.keys_file is None else load_keys(setup.keys_file)
    now = int(time.time())
    start, key_id = (None, 1) if saved else first_start(setup, now)
    keys = GatewayKeys(
        lifetime=setup.key_lifetime,
        announce=setup.key_announce,
        on_new=on_new,
        save=(lambda _k: None) if setup.keys_file is None else partial(save_keys, setup.keys_file),
        keys=saved,
        first_id=key_id,
    )
    keys.tick(now, first_start=start)
    serve(create_app(config, keys, make_redeemer(setup, store), nodes=nodes), host, port)
