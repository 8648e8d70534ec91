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
from starlette.responses import Response
from starlette.routing import Route

from privproc import ohttp
from privproc._http import error_boundary
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


class _Documents:
    def __init__(self) -> None:
        self.keys: bytes | None = None
        self.bundle: bytes | None = None
        self.log: LogView | None = None


def _static(body: bytes, media: str, request: Request, max_age: int) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"etag": etag, "cache-control": f"public, max-age={max_age}"}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


def create_app(config: DirectoryConfig) -> Starlette:
    """The directory app."""
    docs = _Documents()

    async def refresh(client: httpx.AsyncClient) -> None:
        keys = (await _get(client, config.gateway_url.rstrip("/") + "/ohttp-keys")).content
        configs = [c.encode() for c in ohttp.decode_list(keys)]
        nodes: list[dict[str, Any]] = []
        for url in config.nodes:
            try:
                nodes.append((await _get(client, url.rstrip("/") + "/evidence")).json())
            except (httpx.HTTPError, ValueError, PrivprocError):
                _log.warning("a node's evidence is unavailable")
        log = await fetch_log(client, config.ledger_url)
        docs.keys, docs.log = keys, log
        docs.bundle = build_bundle(log, configs, nodes)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=10) as client:

            async def loop() -> None:
                while True:
                    try:
                        await refresh(client)
                    except (httpx.HTTPError, PrivprocError, ValueError) as exc:
                        _log.warning("refresh failed: %s", type(exc).__name__)
                    await asyncio.sleep(config.refresh_every)

            task = asyncio.create_task(loop())
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
        ready = docs.bundle is not None
        return Response("ok\n" if ready else "starting\n", status_code=200 if ready else 503)

    return Starlette(
        routes=[
            Route("/ohttp-keys", keys, methods=["GET"]),
            Route("/nodes", nodes, methods=["GET"]),
            Route("/consistency/{old}/{new}", consistency, methods=["GET"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
