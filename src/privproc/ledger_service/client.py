"""Fetching from a ledger over HTTP (C2SP tlog-tiles paths plus our helpers).

Fetch first, verify offline: this module only moves bytes; the checks live in
:mod:`.verifier` and :mod:`.audit`. Errors: RemoteError (the ledger answered
with an error status), StoreError-free; transport failures become RemoteError
with status 0.
"""

from __future__ import annotations

from typing import Any

import httpx

from privproc.errors import DecodeError, RemoteError
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.note import b64decode_strict
from privproc.ledger.tiles import ENTRIES_LEVEL, TileRef, tiles_for_size
from privproc.ledger.verifier import InclusionBundle

__all__ = ["LedgerClient"]

_VKEY_PATH = "/.well-known/privproc-vkey"


class LedgerClient:
    """A small synchronous client for one ledger URL."""

    def __init__(self, url: str, *, timeout: float = 10.0, token: str | None = None) -> None:
        self._url = url.rstrip("/")
        self._token = token
        self._http = httpx.Client(timeout=timeout)

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> LedgerClient:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _get(self, path: str, params: dict[str, int] | None = None) -> httpx.Response:
        try:
            r = self._http.get(self._url + path, params=params)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach the ledger: {type(exc).__name__}", status=0) from None
        if r.status_code != 200:
            raise RemoteError(f"GET {path} failed", status=r.status_code)
        return r

    def checkpoint(self) -> bytes:
        """``GET /checkpoint``: the signed checkpoint note."""
        return self._get("/checkpoint").content

    def witnessed(self, index: int) -> bytes | None:
        """``GET /checkpoint/witnessed``: the first witnessed checkpoint holding ``index``."""
        try:
            return self._get("/checkpoint/witnessed", {"index": index}).content
        except RemoteError as exc:
            if exc.status == 404:
                return None
            raise

    def vkey(self) -> str:
        """The log's verifier key (C2SP signed-note vkey)."""
        return self._get(_VKEY_PATH).text.strip()

    def tile(self, ref: TileRef) -> bytes:
        """A tile or entry bundle."""
        return self._get("/" + ref.path()).content

    def _proof(self, path: str, params: dict[str, int]) -> list[bytes]:
        """The ``proof`` list of base64 hashes in a JSON answer; DecodeError otherwise."""
        try:
            obj: Any = self._get(path, params).json()
        except ValueError:
            raise DecodeError(f"{path}: not JSON") from None
        proof = obj.get("proof") if isinstance(obj, dict) else None
        if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
            raise DecodeError(f"{path}: no list of base64 proof hashes")
        return [b64decode_strict(p, "proof") for p in proof]

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """``GET /proof/inclusion``."""
        return self._proof("/proof/inclusion", {"index": index, "size": size})

    def consistency_proof(self, old: int, new: int) -> list[bytes]:
        """``GET /proof/consistency``."""
        return self._proof("/proof/consistency", {"old": old, "new": new})

    def bundle(self, index: int) -> InclusionBundle:
        """``GET /bundle``: entry ``index`` with its proof at the served checkpoint."""
        return InclusionBundle.decode(self._get("/bundle", {"index": index}).content)

    def add(self, entry: bytes) -> int:
        """``POST /add`` with the bearer token; the entry's 0-based index."""
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        try:
            r = self._http.post(self._url + "/add", content=entry, headers=headers)
        except httpx.HTTPError as exc:
            raise RemoteError(f"cannot reach the ledger: {type(exc).__name__}", status=0) from None
        if r.status_code != 200:
            raise RemoteError("POST /add failed", status=r.status_code)
        try:
            index = r.json().get("index")
        except (ValueError, AttributeError):
            raise DecodeError("POST /add: the answer is not a JSON object") from None
        if not isinstance(index, int) or isinstance(index, bool) or index < 0:
            raise DecodeError("POST /add: no index in the answer")
        return index

    def fetch_tiles(
        self, size: int, cache: dict[TileRef, bytes] | None = None
    ) -> dict[TileRef, bytes]:
        """Every tile and entry bundle of a tree of ``size`` (full ones reused from ``cache``)."""
        out: dict[TileRef, bytes] = {}
        for ref in tiles_for_size(size):
            refs = [ref]
            if ref.level == 0:
                refs.append(TileRef(ENTRIES_LEVEL, ref.index, ref.width))
            for r in refs:
                cached = None if cache is None or r.partial else cache.get(r)
                out[r] = cached if cached is not None else self.tile(r)
                if cache is not None and not r.partial:
                    cache[r] = out[r]
        return out

    def device_proofs(
        self, index: int, seen: Checkpoint | None
    ) -> tuple[InclusionBundle, list[bytes]]:
        """What a device needs to check entry ``index``: the bundle at the served checkpoint
        and the consistency proof from ``seen`` to it (empty when nothing was seen or the
        sizes are equal). Nothing is verified here: pass both to
        :func:`privproc.ledger.verifier.verify_inclusion_bundle` / ``verify_record``."""
        from privproc.ledger.note import Note

        bundle = self.bundle(index)
        size = Checkpoint.parse(Note.decode(bundle.checkpoint).text).size
        if seen is None or seen.size >= size:
            return bundle, []
        return bundle, self.consistency_proof(seen.size, size)

    def fetch_entries(self, size: int) -> list[bytes]:
        """Every entry of a tree of ``size`` (from the entry bundles), unverified."""
        from privproc.ledger.tiles import decode_entry_bundle

        out: list[bytes] = []
        for ref in tiles_for_size(size):
            if ref.level == 0:
                bundle = TileRef(ENTRIES_LEVEL, ref.index, ref.width)
                out.extend(decode_entry_bundle(self.tile(bundle), ref.width))
        return out
