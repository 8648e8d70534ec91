"""The witness service: C2SP tlog-witness ``POST /add-checkpoint`` over SQLite state.

For each known log (by origin and vkey) it keeps the newest checkpoint it
cosigned; the lookup, the checks of :func:`privproc.ledger.tlog_witness.add_checkpoint`
and the update run under one lock inside one SQLite transaction (synchronous=FULL),
so two racing requests cannot roll the witness back (tlog-witness §add-checkpoint).

Routes::

    POST /add-checkpoint             text body per tlog-witness; 200 cosignature line(s)
    GET  /.well-known/privproc-vkey  this witness's cosignature vkey (type 0x04)
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from privproc._http import error_boundary, read_body
from privproc._sqlite import open_sqlite
from privproc.errors import ConfigError, SizeConflictError, StoreError
from privproc.ledger.cosignature import Cosigner
from privproc.ledger.note import NoteVerifier
from privproc.ledger.tlog_witness import (
    AddCheckpointRequest,
    WitnessedState,
    add_checkpoint,
    request_origin,
)

__all__ = ["VKEY_PATH", "WitnessConfig", "WitnessStore", "build_app", "load_cosigner"]

VKEY_PATH = "/.well-known/privproc-vkey"
_MAX_BODY = 1 << 16


def load_cosigner(home: Path, name: str) -> Cosigner:
    """The witness key from ``home/witness.key`` (raw Ed25519 seed), created on first use;
    the vkey is written next to it as ``witness.vkey``."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / "witness.key"
    if not path.exists():
        key = Ed25519PrivateKey.generate()
        seed = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(seed)
    seed = path.read_bytes()
    if len(seed) != 32:
        raise ConfigError(f"bad witness key file {path}")
    cosigner = Cosigner(name, Ed25519PrivateKey.from_private_bytes(seed))
    (home / "witness.vkey").write_text(cosigner.verifier().vkey() + "\n")
    return cosigner


class WitnessStore:
    """The newest cosigned (size, root) per origin, in SQLite."""

    def __init__(self, path: Path) -> None:
        self.lock = threading.Lock()
        self._db = open_sqlite(
            path,
            what="witness database",
            synchronous="FULL",
            schema=[
                "CREATE TABLE IF NOT EXISTS logs (origin TEXT PRIMARY KEY, size INTEGER NOT NULL,"
                " root BLOB NOT NULL, note BLOB NOT NULL)"
            ],
        )

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def get(self, origin: str) -> WitnessedState | None:
        """The stored state for ``origin`` (call under ``lock``)."""
        try:
            row = self._db.execute(
                "SELECT size, root FROM logs WHERE origin = ?", (origin,)
            ).fetchone()
        except sqlite3.Error as exc:
            raise StoreError(f"witness database: {type(exc).__name__}") from None
        return None if row is None else WitnessedState(origin, int(row[0]), bytes(row[1]))

    def put(self, state: WitnessedState, note: bytes) -> None:
        """Persist a new state durably (call under ``lock``)."""
        try:
            self._db.execute(
                "INSERT OR REPLACE INTO logs (origin, size, root, note) VALUES (?, ?, ?, ?)",
                (state.origin, state.size, state.root_hash, note),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"witness database: {type(exc).__name__}") from None


@dataclass(frozen=True, slots=True)
class WitnessConfig:
    """A witness: its home, name, and the logs it witnesses (origin -> verifier)."""

    home: Path
    name: str
    logs: Mapping[str, NoteVerifier]
    clock: Callable[[], float] = field(default=time.time)


def build_app(config: WitnessConfig) -> Starlette:
    """The witness's ASGI app."""
    cosigner = load_cosigner(config.home, config.name)
    store = WitnessStore(config.home / "witness.sqlite3")

    def decide(request: AddCheckpointRequest) -> bytes:
        with store.lock:
            state = store.get(request_origin(request))
            new_state, sig = add_checkpoint(
                request, config.logs, state, cosigner, now=int(config.clock())
            )
            store.put(new_state, request.checkpoint)
        return sig.line().encode()

    async def add(request: Request) -> Response:
        try:
            body = await read_body(request, _MAX_BODY)
            parsed = AddCheckpointRequest.decode(body)
            # Signature checks and a synchronous=FULL commit: off the event loop.
            return Response(await asyncio.to_thread(decide, parsed), media_type="text/plain")
        except SizeConflictError as exc:
            # tlog-witness: 409 with the known size, Content-Type text/x.tlog.size.
            return Response(
                f"{exc.known_size}\n",
                status_code=exc.http_status,
                media_type="text/x.tlog.size",
                headers={"X-Privproc-Reason": exc.check},
            )

    @error_boundary
    async def vkey(_: Request) -> Response:
        return PlainTextResponse(cosigner.verifier().vkey() + "\n")

    return Starlette(
        routes=[
            Route("/add-checkpoint", error_boundary(add), methods=["POST"]),
            Route(VKEY_PATH, vkey),
        ]
    )
