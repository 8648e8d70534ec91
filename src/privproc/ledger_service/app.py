"""The ledger service: a C2SP tlog-tiles log over SQLite, with a batching sequencer.

Routes (read side exactly as c2sp.org/tlog-tiles says)::

    GET  /checkpoint                         text/plain; charset=utf-8 (newest witnessed)
    GET  /checkpoint/witnessed?index=I       the first witnessed checkpoint holding entry I
    GET  /tile/<L>/<N>[.p/<W>]               application/octet-stream
    GET  /tile/entries/<N>[.p/<W>]           application/octet-stream
    GET  /.well-known/privproc-vkey          the log's vkey (C2SP signed-note)
    GET  /proof/inclusion?index=I&size=N     JSON helper: RFC 9162 inclusion proof
    GET  /proof/consistency?old=M&new=N      JSON helper: RFC 9162 consistency proof
    GET  /bundle?index=I                     JSON InclusionBundle at the served checkpoint
    POST /add                                bearer token; body = one entry; {"index": I}

``POST /add`` queues the entry; the sequencer takes whatever is queued (a batch),
writes entries, hashes and a newly signed checkpoint in one durable SQLite
transaction, then answers every waiting request with its index. After each new
checkpoint the log asks its witnesses (C2SP tlog-witness ``add-checkpoint``) to
cosign; ``/checkpoint`` serves the newest checkpoint that has the configured
number of cosignatures (all of them by default).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import logging
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from privproc._http import error_boundary, read_body
from privproc.errors import (
    AuthError,
    ConfigError,
    DecodeError,
    MisuseError,
    NotFoundError,
    PrivprocError,
    RemoteError,
    StoreError,
)
from privproc.ledger.checkpoint import Checkpoint, sign_checkpoint
from privproc.ledger.cosignature import verifier_from_vkey
from privproc.ledger.note import (
    Ed25519Signer,
    Note,
    NoteSignature,
    NoteVerifier,
    check_key_name,
    open_note,
    parse_signer_key,
)
from privproc.ledger.tiles import (
    ENTRIES_LEVEL,
    MAX_ENTRY_SIZE,
    TILE_HEIGHT,
    TILE_WIDTH,
    encode_entry_bundle,
    parse_tile_path,
)
from privproc.ledger.tlog_witness import AddCheckpointRequest, parse_conflict_body
from privproc.ledger.verifier import InclusionBundle
from privproc.ledger_service.storage import SqliteLedgerStore, SqlLedgerStore

__all__ = ["VKEY_PATH", "LedgerConfig", "build_app", "load_signer", "load_token"]

#: Where the log's verifier key is served.
VKEY_PATH = "/.well-known/privproc-vkey"
_MAX_BATCH = 1024
_TEXT = "text/plain; charset=utf-8"
_OCTETS = "application/octet-stream"
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
_log = logging.getLogger("privproc.ledger")


def _write_secret(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")


def load_signer(home: Path, origin: str) -> Ed25519Signer:
    """The log key from ``home/log.key`` (Go note signer format), created on first use."""
    path = home / "log.key"
    if not path.exists():
        signer = Ed25519Signer(origin, Ed25519PrivateKey.generate())
        _write_secret(path, signer.signer_key())
        return signer
    try:
        signer = parse_signer_key(path.read_text())
    except (DecodeError, OSError) as exc:
        raise ConfigError(f"bad log key file {path}: {exc}") from None
    if signer.name != origin:
        raise ConfigError(f"log key is for origin {signer.name!r}, not {origin!r}")
    return signer


def load_token(home: Path, *, create: bool = False) -> str:
    """The bearer token for ``POST /add``: ``$PRIVPROC_LEDGER_TOKEN`` or ``home/token``."""
    env = os.environ.get("PRIVPROC_LEDGER_TOKEN")
    if env:
        return env
    path = home / "token"
    if not path.exists():
        if not create:
            raise ConfigError(f"no ledger token: set PRIVPROC_LEDGER_TOKEN or create {path}")
        _write_secret(path, secrets.token_urlsafe(32))
    return path.read_text().strip()


@dataclass(frozen=True, slots=True)
class LedgerConfig:
    """How a ledger runs: its home, origin, witnesses and quorum for serving."""

    home: Path
    origin: str = "privproc.local/ledger"
    witnesses: tuple[str, ...] = ()
    witness_quorum: int | None = None
    witness_interval: float = 60.0
    #: ``postgresql://...`` to keep the log in PostgreSQL; default SQLite under ``home``.
    database: str | None = None

    def __post_init__(self) -> None:
        try:
            check_key_name(self.origin)
        except DecodeError:
            raise ConfigError("the origin must be a key name: no spaces, no '+'") from None
        if self.witness_interval <= 0:
            raise ConfigError("the witness interval must be positive")
        if any(not w.startswith(("http://", "https://")) for w in self.witnesses):
            raise ConfigError("witnesses are given by http(s) URL")


def _open_store(config: LedgerConfig) -> SqlLedgerStore:
    db = config.database
    if db is None:
        return SqliteLedgerStore(config.home / "ledger.sqlite3")
    if db.startswith(("postgresql://", "postgres://")):
        from privproc.ledger_service.postgres import PostgresLedgerStore

        return PostgresLedgerStore(db)
    raise ConfigError("--database must be a postgresql:// URL (default: SQLite in the home)")


class _Ledger:
    def __init__(self, config: LedgerConfig) -> None:
        config.home.mkdir(parents=True, exist_ok=True)
        self.config = config
        self.signer = load_signer(config.home, config.origin)
        self.token = load_token(config.home, create=True)
        self.store = _open_store(config)
        self.quorum = (
            len(config.witnesses) if config.witness_quorum is None else config.witness_quorum
        )
        if not 0 <= self.quorum <= len(config.witnesses):
            raise ConfigError("witness quorum must be between 0 and the number of witnesses")
        self.queue: asyncio.Queue[tuple[bytes, asyncio.Future[int]]] = asyncio.Queue()
        self.new_checkpoint = asyncio.Event()
        self.served: bytes | None = None
        self.witness_size: dict[str, int] = {}
        self.witness_keys: dict[str, NoteVerifier] = {}
        latest = self.store.latest_checkpoint()
        if latest is None:
            self.store.append([], self._make_note)
        self._pick_served()

    def _make_note(self, size: int, root: bytes) -> bytes:
        return sign_checkpoint(Checkpoint(self.config.origin, size, root), self.signer).encode()

    def _pick_served(self) -> None:
        latest = self.store.latest_checkpoint()
        if latest is None:
            return
        note = Note.decode(latest[1])
        cosigs = len(note.signatures) - 1
        if cosigs >= self.quorum or self.served is None:
            self.served = latest[1]

    async def sequencer(self) -> None:
        while True:
            first = await self.queue.get()
            batch = [first]
            # Group commit (issue 18): no fixed wait. Appends that arrive while a batch
            # commits (in a thread) queue up and form the next batch; one yield lets
            # handlers that are ready now join this one.
            await asyncio.sleep(0)
            while len(batch) < _MAX_BATCH and not self.queue.empty():
                batch.append(self.queue.get_nowait())
            entries = [e for e, _ in batch]
            try:
                start = await asyncio.to_thread(self.store.append, entries, self._make_note)
            except Exception as exc:  # noqa: BLE001 - every waiter learns the batch failed
                _log.error("sequencing failed: %s", type(exc).__name__)
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(StoreError("could not store the entry"))
                continue
            for k, (_, fut) in enumerate(batch):
                if not fut.done():
                    fut.set_result(start + k)
            if self.quorum == 0:
                self._pick_served()
            self.new_checkpoint.set()

    async def witness_loop(self) -> None:
        if not self.config.witnesses:
            return
        async with httpx.AsyncClient(timeout=10.0) as client:
            while True:
                with contextlib.suppress(TimeoutError):
                    # New checkpoints are witnessed at once; an unchanged one is
                    # re-cosigned every interval so cosignatures stay fresh.
                    await asyncio.wait_for(
                        self.new_checkpoint.wait(), timeout=self.config.witness_interval
                    )
                self.new_checkpoint.clear()
                try:
                    await self._witness_round(client)
                except PrivprocError as exc:  # e.g. the store is unavailable: try next round
                    _log.warning("witnessing round failed: %s", exc.code)

    async def _witness_round(self, client: httpx.AsyncClient) -> None:
        latest = await asyncio.to_thread(self.store.latest_checkpoint)
        if latest is None:
            return
        size, note_bytes = latest
        results = await asyncio.gather(
            *(self._cosign(client, url, size, note_bytes) for url in self.config.witnesses),
            return_exceptions=True,
        )
        note = Note.decode(note_bytes)
        sigs = {(s.name, s.key_id): s for s in note.signatures}
        for url, res in zip(self.config.witnesses, results, strict=True):
            if isinstance(res, BaseException):
                _log.warning("witness %s: %s", url, type(res).__name__)
                continue
            sigs[(res.name, res.key_id)] = res  # a fresher cosignature replaces the old
        note = Note(note.text, tuple(sigs.values()))
        await asyncio.to_thread(self.store.update_checkpoint, size, note.encode())
        if len(note.signatures) - 1 >= max(self.quorum, 1):
            # The first quorum note of each size is kept: the key-consistency rule's
            # announcement proof (privproc.ledger.keyconsistency, rule 4).
            await asyncio.to_thread(self.store.record_witnessed, size, note.encode())
        self._pick_served()

    async def _witness_key(self, client: httpx.AsyncClient, url: str) -> NoteVerifier:
        if url not in self.witness_keys:
            r = await client.get(url.rstrip("/") + VKEY_PATH)
            if r.status_code != 200:
                raise RemoteError("witness key", status=r.status_code)
            self.witness_keys[url] = verifier_from_vkey(r.text.strip())
        return self.witness_keys[url]

    async def _cosign(
        self, client: httpx.AsyncClient, url: str, size: int, note: bytes
    ) -> NoteSignature:
        key = await self._witness_key(client, url)
        for _ in range(3):
            old = min(self.witness_size.get(url, 0), size)
            proof = await asyncio.to_thread(self.store.consistency_proof, old, size)
            body = AddCheckpointRequest(old, tuple(proof), note).encode()
            r = await client.post(url.rstrip("/") + "/add-checkpoint", content=body)
            if r.status_code == 409 and r.headers.get("content-type", "").startswith(
                "text/x.tlog.size"
            ):
                known = parse_conflict_body(r.content)
                if known > size:
                    raise RemoteError("witness has a larger tree than this log", status=409)
                self.witness_size[url] = known
                continue
            if r.status_code != 200:
                raise RemoteError("witness refused the checkpoint", status=r.status_code)
            # The answer is signature lines; keep the one from this witness's key.
            text = Note.decode(note).text
            answer = Note.decode(text.encode() + b"\n" + r.content)
            [verified] = open_note(answer, [key])
            self.witness_size[url] = size
            return verified.signature
        raise RemoteError("witness kept answering 409", status=409)


def _int_param(request: Request, name: str) -> int:
    value = request.query_params.get(name, "")
    if not value.isdigit() or len(value) > 19:
        raise DecodeError(f"query parameter {name!r} must be a non-negative integer")
    return int(value)


def _ledger(request: Request) -> _Ledger:
    led: _Ledger = request.app.state.ledger
    return led


@error_boundary
async def _checkpoint(request: Request) -> Response:
    served = _ledger(request).served
    if served is None:
        raise NotFoundError("no checkpoint yet")
    return Response(served, media_type=_TEXT, headers={"Cache-Control": "max-age=1"})


@error_boundary
async def _witnessed(request: Request) -> Response:
    index = _int_param(request, "index")
    note = await asyncio.to_thread(_ledger(request).store.first_witnessed, index)
    if note is None:
        raise NotFoundError("no witnessed checkpoint holds that entry yet")
    return Response(note, media_type=_TEXT, headers={"Cache-Control": "max-age=3600"})


@error_boundary
async def _vkey(request: Request) -> Response:
    return PlainTextResponse(_ledger(request).signer.verifier().vkey() + "\n")


@error_boundary
async def _tile(request: Request) -> Response:
    try:
        ref = parse_tile_path(request.url.path.lstrip("/"))
    except DecodeError:
        raise NotFoundError("no such tile") from None
    led = _ledger(request)
    start = ref.index * TILE_WIDTH
    if ref.level == ENTRIES_LEVEL:
        entries = await asyncio.to_thread(led.store.entries, start, start + ref.width)
        if len(entries) != ref.width:
            raise NotFoundError("no such entry bundle")
        return Response(encode_entry_bundle(entries), media_type=_OCTETS, headers=_IMMUTABLE)
    hashes = await asyncio.to_thread(
        led.store.hashes, ref.level * TILE_HEIGHT, start, start + ref.width
    )
    if len(hashes) != ref.width:
        raise NotFoundError("no such tile")
    return Response(b"".join(hashes), media_type=_OCTETS, headers=_IMMUTABLE)


@error_boundary
async def _add(request: Request) -> Response:
    led = _ledger(request)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    given = given.strip()  # RFC 9110 §11.1: the scheme is case-insensitive
    if scheme.lower() != "bearer" or not given:
        raise AuthError("a valid bearer token is required to add entries")
    if not hmac.compare_digest(given.encode(), led.token.encode()):
        raise AuthError("a valid bearer token is required to add entries")
    entry = await read_body(request, MAX_ENTRY_SIZE)
    fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    await led.queue.put((entry, fut))
    index = await fut
    return JSONResponse({"index": index})


def _b64(proof: list[bytes]) -> list[str]:
    return [base64.b64encode(p).decode() for p in proof]


@error_boundary
async def _inclusion(request: Request) -> Response:
    led = _ledger(request)
    index, size = _int_param(request, "index"), _int_param(request, "size")
    try:
        proof = await asyncio.to_thread(led.store.inclusion_proof, index, size)
    except MisuseError as exc:
        raise NotFoundError(str(exc)) from None
    return JSONResponse({"index": index, "size": size, "proof": _b64(proof)})


@error_boundary
async def _consistency(request: Request) -> Response:
    led = _ledger(request)
    old, new = _int_param(request, "old"), _int_param(request, "new")
    try:
        proof = await asyncio.to_thread(led.store.consistency_proof, old, new)
    except MisuseError as exc:
        raise NotFoundError(str(exc)) from None
    return JSONResponse({"old": old, "new": new, "proof": _b64(proof)})


@error_boundary
async def _bundle(request: Request) -> Response:
    led = _ledger(request)
    index = _int_param(request, "index")
    served = led.served
    size = 0 if served is None else Checkpoint.parse(Note.decode(served).text).size
    if served is None or index >= size:
        raise NotFoundError("entry not yet in the served checkpoint")
    proof = await asyncio.to_thread(led.store.inclusion_proof, index, size)
    [entry] = await asyncio.to_thread(led.store.entries, index, index + 1)
    body = InclusionBundle(served, index, entry, tuple(proof)).encode()
    return Response(body, media_type="application/json")


def build_app(config: LedgerConfig) -> Starlette:
    """The ledger's ASGI app; its state opens at startup and closes at shutdown."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        led = _Ledger(config)
        app.state.ledger = led
        tasks = [asyncio.create_task(led.sequencer()), asyncio.create_task(led.witness_loop())]
        led.new_checkpoint.set()
        try:
            yield
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t
            led.store.close()

    routes = [
        Route("/checkpoint", _checkpoint),
        Route("/checkpoint/witnessed", _witnessed),
        Route(VKEY_PATH, _vkey),
        Route("/tile/{rest:path}", _tile),
        Route("/add", _add, methods=["POST"]),
        Route("/proof/inclusion", _inclusion),
        Route("/proof/consistency", _consistency),
        Route("/bundle", _bundle),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
