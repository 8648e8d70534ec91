"""The directory service: fetch the parts, assemble, serve static documents.

``GET /ohttp-keys``            application/ohttp-keys (the gateway's active configs)
``GET /nodes``                 the node bundle (:mod:`.bundle`), application/json
``GET /consistency/{m}/{n}``   RFC 9162 §2.1.4 consistency proof between two sizes

Every document carries an ``ETag`` (SHA-256 of the body) and ``Cache-Control``,
answers ``If-None-Match`` with 304, and is the same for every client.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from privproc import ohttp
from privproc._http import error_boundary
from privproc._supervise import LoopState, supervise
from privproc.directory.bundle import LogView, build_bundle
from privproc.errors import DecodeError, NotReadyError, PeerError, PrivprocError, StoreError
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.merkle import consistency_proof
from privproc.ledger.note import Note
from privproc.ledger.tiles import ENTRIES_LEVEL, TILE_WIDTH, TileRef, decode_entry_bundle

__all__ = ["DirectoryConfig", "create_app", "fetch_log"]

_log = logging.getLogger("privproc.directory")


@dataclass(frozen=True, slots=True)
class DirectoryConfig:
    """Where the parts come from, and how often to refresh (seconds)."""

    gateway_url: str
    ledger_url: str
    nodes: tuple[str, ...]
    refresh_every: float = 2.0
    max_age: int = 5


async def fetch_log(client: httpx.AsyncClient, ledger_url: str) -> LogView:
    """Read the checkpoint and every entry through the C2SP tlog-tiles API."""
    base = ledger_url.rstrip("/")
    note_bytes = (await _get(client, f"{base}/checkpoint")).content
    size = Checkpoint.parse(Note.decode(note_bytes).text).size
    entries: list[bytes] = []
    for index in range((size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, size - index * TILE_WIDTH)
        ref = TileRef(ENTRIES_LEVEL, index, width)
        data = (await _get(client, f"{base}/{ref.path()}")).content
        entries.extend(decode_entry_bundle(data, width))
    return LogView(note_bytes, entries)


async def _get(client: httpx.AsyncClient, url: str) -> httpx.Response:
    answer = await client.get(url)
    if answer.status_code != 200:
        raise StoreError(f"fetch failed with HTTP {answer.status_code}")
    return answer


async def _witnessed(client: httpx.AsyncClient, ledger_url: str, index: int) -> bytes | None:
    """The first witnessed checkpoint holding entry ``index`` (None until there is one)."""
    answer = await client.get(
        ledger_url.rstrip("/") + "/checkpoint/witnessed", params={"index": index}
    )
    if answer.status_code == 404:
        return None
    if answer.status_code != 200:
        raise StoreError(f"fetch failed with HTTP {answer.status_code}")
    return answer.content


async def _announce(
    client: httpx.AsyncClient,
    ledger_url: str,
    log: LogView,
    configs: list[bytes],
    announced: dict[int, bytes],
) -> None:
    """Fill ``announced`` with the announcement of every served config that lacks one."""
    for raw in configs:
        index = log.find_key_config(raw)
        if index is not None and index not in announced:
            note = await _witnessed(client, ledger_url, index)
            if note is not None:
                announced[index] = note


class _Documents:
    def __init__(self) -> None:
        self.keys: bytes | None = None
        self.bundle: bytes | None = None
        self.log: LogView | None = None
        #: Announcement checkpoints by key-config record index (immutable once found).
        self.announced: dict[int, bytes] = {}


def _static(body: bytes, media: str, request: Request, max_age: int) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"etag": etag, "cache-control": f"public, max-age={max_age}"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


async def _refresh(client: httpx.AsyncClient, config: DirectoryConfig, docs: _Documents) -> None:
    """Fetch the gateway's key configs, each node's evidence and the log; rebuild."""
    keys = (await _get(client, config.gateway_url.rstrip("/") + "/ohttp-keys")).content
    configs = [c.encode() for c in ohttp.decode_list(keys)]
    nodes: list[dict[str, Any]] = []
    for url in config.nodes:
        try:
            nodes.append((await _get(client, url.rstrip("/") + "/evidence")).json())
        except (httpx.HTTPError, ValueError, PrivprocError):
            _log.warning("a node's evidence is unavailable")
    log = await fetch_log(client, config.ledger_url)
    await _announce(client, config.ledger_url, log, configs, docs.announced)
    docs.keys, docs.log = keys, log
    docs.bundle = build_bundle(log, configs, nodes, docs.announced)


def create_app(config: DirectoryConfig) -> Starlette:
    """The directory app."""
    docs = _Documents()

    state = LoopState("refresh")

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=10) as client:
            task = asyncio.create_task(
                supervise(
                    state,
                    lambda: _refresh(client, config, docs),
                    every=config.refresh_every,
                    max_backoff=max(config.refresh_every, 30.0),
                    first_delay=0,
                )
            )
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    @error_boundary
    async def keys(request: Request) -> Response:
        if docs.keys is None:
            raise NotReadyError("directory not ready")
        return _static(docs.keys, ohttp.MEDIA_TYPE_KEYS, request, config.max_age)

    @error_boundary
    async def nodes(request: Request) -> Response:
        if docs.bundle is None:
            raise NotReadyError("directory not ready")
        return _static(docs.bundle, "application/json", request, config.max_age)

    @error_boundary
    async def consistency(request: Request) -> Response:
        log = docs.log
        if log is None:
            raise NotReadyError("directory not ready")
        try:
            old, new = int(request.path_params["old"]), int(request.path_params["new"])
        except ValueError:
            raise DecodeError("sizes must be integers") from None
        if not 0 < old <= new <= len(log.entries):
            raise PeerError("sizes out of range")
        proof = consistency_proof(log.tree, old, new)
        body = json.dumps([base64.b64encode(p).decode() for p in proof]).encode()
        return _static(body, "application/json", request, 3600)

    async def health(_request: Request) -> Response:
        """503 until the first bundle is built; then 200, ``degraded`` while refresh fails."""
        ready = docs.bundle is not None
        status = "starting" if not ready else "ok" if state.ok else "degraded"
        return JSONResponse(
            {"status": status, "loops": {"refresh": state.as_dict()}},
            status_code=200 if ready else 503,
            headers={"cache-control": "no-store"},
        )

    return Starlette(
        routes=[
            Route("/ohttp-keys", keys, methods=["GET"]),
            Route("/nodes", nodes, methods=["GET"]),
            Route("/consistency/{old}/{new}", consistency, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
