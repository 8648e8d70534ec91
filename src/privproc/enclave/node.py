"""The enclave node service: ``GET /evidence``, ``GET /attestation``, ``POST /process``.

(docs/e2e.md, docs/attestation.md "Fresh evidence".)

The warm parent holds the model and the key ring in memory; every sealed
request runs in a fresh child that unwraps the data key, runs the feature, seals
the answer and exits. Children are forked ahead of their request, per node key
(:mod:`.prefork`; which children a key's state allows is the table
:data:`~privproc.enclave.keys.POOL_POLICY`), so the fork and the reap are off the
request's path; each child serves exactly one request. Evidence binding the current key
is remade on rotation, every ``evidence_refresh`` seconds, and whenever the node
sees the log grow: with a ledger URL, the node fetches the ledger's newest witnessed
checkpoint (``GET /checkpoint``) every ``checkpoint_refresh`` seconds and binds
SHA-256 of the newest note it has into the report data of every evidence it makes
(``freshness_value(now, SHA-256(note))``), so its evidence provably is not older than
a checkpoint the witnesses cosigned: it cannot be signed in advance. ``GET
/attestation?nonce=HEX`` makes evidence on demand whose freshness carries the
caller's nonce (16..64 bytes), for auditors. The node writes nothing to disk and
logs only allow-listed events (:mod:`.logfilter`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from privproc._http import error_boundary, read_body
from privproc.attestation import Evidence
from privproc.enclave.features import run_feature, stream_feature
from privproc.enclave.keys import POOL_POLICY, KeyRing, KeyState, PoolPolicy
from privproc.enclave.platform import NodeHardware
from privproc.enclave.prefork import ChildStream, PreforkPool, StreamHandler
from privproc.errors import DecodeError, MediaTypeError, PrivprocError, UnknownKeyError
from privproc.hpke import PrivateKey
from privproc.limits import MAX_SEALED_REQUEST
from privproc.sealed import generate_node_key, open_request, parse_header
from privproc.workloads import Backend

__all__ = ["SEALED_MEDIA", "SEALED_STREAM_MEDIA", "Node", "create_app"]

#: Media type of a sealed request or response body.
SEALED_MEDIA = "application/privproc-sealed"
#: Media type of a streamed sealed answer (privproc.sealed ``SealedStream``, docs/streaming.md).
SEALED_STREAM_MEDIA = "application/privproc-sealed-stream"

_log = logging.getLogger("privproc.enclave")
_USABLE = (KeyState.PUBLISHED, KeyState.RETIRING)


class Node:
    """A node's state: identity, hardware, keys, current evidence, the warm model."""

    def __init__(
        self,
        node_id: str,
        hardware: NodeHardware,
        backend: Backend,
        *,
        key_lifetime: float = 3600.0,
        key_grace: float = 600.0,
        evidence_refresh: float = 300.0,
        timeout: float = 60.0,
        prefork: int = 2,
        max_children: int = 8,
        clock: Callable[[], float] = time.time,
        model_digest: bytes = bytes(32),
    ) -> None:
        """``model_digest``: the release record's ``model_digest`` for the model this node
        serves (:func:`privproc.attestation.measure.model_digest`); the measurement binds
        the model itself, this names it for the device (check ``release.model``)."""
        self.node_id = node_id
        self.model_digest = model_digest
        self.hardware = hardware
        self.backend = backend
        self.ring = KeyRing(generate_node_key, lifetime=key_lifetime, grace=key_grace)
        self._refresh = evidence_refresh
        self._clock = clock
        self._evidence: Evidence | None = None
        #: The JSON of :meth:`evidence_document` for (this evidence object, this key id):
        #: polled every second by the gateway and the directory, made once per evidence.
        self._document: tuple[Evidence, bytes, bytes] | None = None
        self._gpu: dict[str, str] | None = None
        self._evidence_at = 0.0
        #: The witnessed checkpoint note the current evidence binds (None: none yet).
        self.witnessed: bytes | None = None
        #: The newest note fetched; bound the next time evidence is made.
        self._latest: bytes | None = None
        self._timeout = timeout
        self._prefork = prefork
        self._limit = asyncio.Semaphore(max_children)
        #: key id -> the request children forked for that key (module docstring).
        self.pools: dict[bytes, PreforkPool] = {}
        self.tick()

    def bind_checkpoint(self, note: bytes) -> None:
        """Take a newly fetched witnessed checkpoint note.

        Evidence is remade at once when the note is of another log size than the one
        bound (the log grew) or none is bound yet; otherwise (the same checkpoint,
        cosigned again) it is bound at the next scheduled refresh, so the bound note
        is never older than ``evidence_refresh`` plus the fetch interval.
        """
        self._latest = note
        if self.witnessed is None or _note_size(note) != _note_size(self.witnessed):
            self._evidence = None
            self.tick()

    def tick(self) -> None:
        """Apply the key schedule; remake evidence on rotation or when due."""
        now = self._clock()
        before = {v.key_id for v in self.ring.views() if v.state is KeyState.DESTROYED}
        if self.ring.tick(now):
            _log.info("key published")
            self._evidence = None
        after = {v.key_id for v in self.ring.views() if v.state is KeyState.DESTROYED}
        for _ in after - before:
            _log.info("key destroyed")
        if self._evidence is None or now - self._evidence_at >= self._refresh:
            key = self.ring.current()
            self.witnessed = self._latest
            extra = b"" if self.witnessed is None else hashlib.sha256(self.witnessed).digest()
            self._evidence = self.hardware.evidence(
                key.public_key, datetime.fromtimestamp(now, UTC), extra
            )
            self._gpu = self.hardware.gpu_document(self._evidence)
            self._evidence_at = now
            _log.info("evidence refreshed")
        self._sync_pools()

    def _sync_pools(self) -> None:
        """Make the request children match :data:`POOL_POLICY` for every key's state."""
        states = {v.key_id: v.state for v in self.ring.views()}
        for key_id in [k for k in self.pools if k not in states]:
            self.pools.pop(key_id).close()
        for key_id, state in states.items():
            policy = POOL_POLICY[state]
            pool = self.pools.get(key_id)
            if policy is PoolPolicy.NONE:
                if pool is not None:
                    self.pools.pop(key_id).close()
            elif pool is None:
                if policy is PoolPolicy.PREFORK:
                    self.pools[key_id] = self._pool(key_id, self._prefork)
            else:
                pool.set_target(self._prefork if policy is PoolPolicy.PREFORK else 0)

    def _pool(self, key_id: bytes, target: int) -> PreforkPool:
        def prepare() -> StreamHandler:
            # In the child, right after its fork: drop every other key of its ring copy.
            self.ring.keep_only(key_id, self._clock())
            backend = self.backend

            def handle(sealed: bytes) -> bytes | Iterator[bytes]:
                private, public = self._key_for(sealed)
                opened = open_request(sealed, private, public)
                events = stream_feature(opened.payload, backend)
                if events is None:
                    return opened.seal_response(run_feature(opened.payload, backend))
                sealer = opened.stream_sealer()

                def frames() -> Iterator[bytes]:
                    # The header leaves at once; then each event as soon as it is written.
                    yield sealer.seal(b"")
                    for event in events:
                        yield sealer.seal(event)
                    yield sealer.finish()

                return frames()

            return handle

        pool = PreforkPool(prepare, target=target, timeout=self._timeout)
        pool.refill()
        return pool

    def close(self) -> None:
        """Destroy every key and kill every request child (shutdown)."""
        self.ring.destroy_all(self._clock())
        self._sync_pools()

    def evidence_document(self) -> bytes:
        """The node's public self-description: its key, evidence and measurement (JSON).

        Made once per evidence and key: everything in it changes only when :meth:`tick`
        makes new evidence (rotation, refresh, a new witnessed checkpoint), and that is a
        new evidence object, so a cached document is never served for another one."""
        evidence = self._evidence
        if evidence is None:
            raise UnknownKeyError("no evidence yet")
        key = self.ring.current()
        cached = self._document
        if cached is not None and cached[0] is evidence and cached[1] == key.key_id:
            return cached[2]
        document = json.dumps(
            {
                "node": self.node_id,
                "public_key": base64.b64encode(key.public_key).decode(),
                "key_id": key.key_id.hex(),
                "measurement": self.hardware.measurement.hex(),
                "evidence": base64.b64encode(evidence.encode()).decode(),
                "model_digest": self.model_digest.hex(),
                "witnessed": None if self.witnessed is None else self.witnessed.decode(),
                "gpu": self._gpu,
            },
            sort_keys=True,
        ).encode()
        self._document = (evidence, key.key_id, document)
        return document

    def attestation_document(self, nonce: bytes) -> bytes:
        """Evidence made now for the current key, its freshness carrying ``nonce`` (JSON),
        with the model digest the node serves and, on a GPU platform, the GPU's report
        made for that evidence."""
        if not 16 <= len(nonce) <= 64:
            raise DecodeError("nonce must be 16..64 bytes")
        key = self.ring.current()
        evidence = self.hardware.evidence(key.public_key, datetime.now(UTC), nonce)
        return json.dumps(
            {
                "node": self.node_id,
                "public_key": base64.b64encode(key.public_key).decode(),
                "measurement": self.hardware.measurement.hex(),
                "evidence": base64.b64encode(evidence.encode()).decode(),
                "model_digest": self.model_digest.hex(),
                # the GPU's report for this evidence (its nonce bound to the CPU report)
                "gpu": self.hardware.gpu_document(evidence),
            },
            sort_keys=True,
        ).encode()

    def _key_for(self, data: bytes) -> tuple[PrivateKey, bytes]:
        header = parse_header(data)
        usable = {
            v.key_id: v.public_key
            for v in self.ring.views()
            if v.state in (KeyState.PUBLISHED, KeyState.RETIRING)
        }
        for key_id in header.key_ids:
            if key_id in usable:
                return self.ring.private_key(key_id), usable[key_id]
        raise UnknownKeyError("no wrap for a key this node holds; refetch the node bundle")

    async def process(self, data: bytes) -> bytes:
        """Open, run and seal one request in a fresh child holding only its key (a
        streamed answer joined whole)."""
        answer = await self.process_stream(data)
        if isinstance(answer, bytes):
            return answer
        return b"".join([piece async for piece in answer])

    async def process_stream(self, data: bytes) -> bytes | ChildStream:
        """:meth:`process`, but a streamed answer comes as the sealed stream's bytes as
        the child writes them (the child counts against ``max_children`` until its
        stream ends)."""
        key_id = self._key_id_for(data)
        pool = self.pools.get(key_id)
        if pool is None:  # a retiring key whose idle children were replaced
            pool = self.pools[key_id] = self._pool(key_id, 0)
        await self._limit.acquire()
        return await pool.serve(data, on_end=self._limit.release)

    def _key_id_for(self, data: bytes) -> bytes:
        header = parse_header(data)
        usable = {
            v.key_id
            for v in self.ring.views()
            if v.state in (KeyState.PUBLISHED, KeyState.RETIRING)
        }
        for key_id in header.key_ids:
            if key_id in usable:
                return key_id
        raise UnknownKeyError("no wrap for a key this node holds; refetch the node bundle")


def _note_size(note: bytes) -> bytes:
    """The tree size line of a C2SP checkpoint note (its second line), as bytes."""
    lines = note.split(b"\n", 2)
    return lines[1] if len(lines) > 2 else b""


async def _checkpoints(node: Node, ledger: str, every: float) -> None:
    """Fetch the ledger's newest witnessed checkpoint and bind it (supervised loop).

    Until the first success it retries every second; after that every ``every``
    seconds. A failure is logged and retried, never fatal.
    """
    import httpx

    async with httpx.AsyncClient(timeout=5.0) as client:
        while True:
            try:
                r = await client.get(ledger.rstrip("/") + "/checkpoint")
                if r.status_code == 200:
                    if r.content != node.witnessed:
                        node.bind_checkpoint(r.content)
                        _log.info("checkpoint fetched")
                else:
                    _log.warning("checkpoint fetch status=%s", r.status_code)
            except httpx.HTTPError as exc:
                _log.warning("checkpoint fetch failed=%s", type(exc).__name__.lower())
            await asyncio.sleep(every if node.witnessed is not None else 1.0)


def create_app(
    node: Node,
    *,
    tick_every: float = 1.0,
    ledger: str | None = None,
    checkpoint_refresh: float = 30.0,
) -> Starlette:
    """The node's ASGI app; with ``ledger``, evidence binds its witnessed checkpoints."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        async def ticker() -> None:
            while True:
                await asyncio.sleep(tick_every)
                node.tick()

        tasks = [asyncio.create_task(ticker())]
        if ledger is not None:
            tasks.append(asyncio.create_task(_checkpoints(node, ledger, checkpoint_refresh)))
        _log.info("node started")
        try:
            yield
        finally:
            _log.info("node stopping")
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            node.close()

    @error_boundary
    async def evidence(_request: Request) -> Response:
        return Response(
            node.evidence_document(),
            media_type="application/json",
            headers={"cache-control": "no-store"},
        )

    @error_boundary
    async def process(request: Request) -> Response:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media != SEALED_MEDIA:
            raise MediaTypeError(f"node accepts only {SEALED_MEDIA}")
        data = await read_body(request, MAX_SEALED_REQUEST)
        try:
            answer = await node.process_stream(data)
        except PrivprocError as exc:
            _log.info("request refused code=%s", getattr(exc, "reason", exc.code))
            raise
        _log.info("request done status=%s", 200)
        if isinstance(answer, bytes):
            return Response(answer, media_type=SEALED_MEDIA)
        return StreamingResponse(answer, media_type=SEALED_STREAM_MEDIA)

    @error_boundary
    async def attestation(request: Request) -> Response:
        try:
            nonce = bytes.fromhex(request.query_params.get("nonce", ""))
        except ValueError:
            raise DecodeError("nonce must be hex") from None
        return Response(
            node.attestation_document(nonce),
            media_type="application/json",
            headers={"cache-control": "no-store"},
        )

    async def health(_request: Request) -> Response:
        return Response("ok\n", media_type="text/plain")

    return Starlette(
        routes=[
            Route("/evidence", evidence, methods=["GET"]),
            Route("/attestation", attestation, methods=["GET"]),
            Route("/process", process, methods=["POST"]),
            Route("/healthz", health, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
