"""The device SDK's I/O: fetch, verify (offline, :mod:`.verify`), seal, send, open.

:class:`Device` runs one request as DESIGN.md "One request" steps 1-9 say: take a
token; fetch the key configs and node bundle from the directory; verify them
(fail closed); seal the request to K randomly chosen verified nodes
(:mod:`privproc.sealed`); put it with the token in a binary HTTP request
(RFC 9292) encapsulated with OHTTP (RFC 9458) to the verified key config; POST it
to the relay; open the answer; record the request in the local report.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from privproc import bhttp, ohttp
from privproc.client.config import ClientConfig
from privproc.client.report import ReportEntry, append_report
from privproc.client.verify import Trust, TrustedNode, VerifiedDirectory, verify_directory
from privproc.errors import (
    DecodeError,
    MisuseError,
    OpenError,
    PolicyError,
    PrivprocError,
    RemoteError,
    UnknownKeyError,
)
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.note import Note, b64decode_strict
from privproc.ledger.seen import SeenCheckpointStore
from privproc.limits import MAX_OHTTP_RESPONSE
from privproc.problem import decode_problem
from privproc.sealed import node_key_id, seal_request
from privproc.workloads.chat import Chat
from privproc.workloads.completions import parse_chat_request

__all__ = ["SEALED_MEDIA", "Answer", "Device", "TokenSource"]

#: Statuses of a lost hop that the device retries once (with a fresh token).
_RETRY_STATUS = frozenset({502, 503, 504})
#: Problems that are not a lost hop: a store that fails closed, a party not ready.
_NO_RETRY = frozenset({"store-unavailable", "not-ready"})

SEALED_MEDIA = "application/privproc-sealed"


class TokenSource(Protocol):
    """Gives one Privacy Pass token per request, as an ``Authorization`` header value."""

    def take(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Answer:
    """A feature's result and the report of how it was obtained.

    ``repr()`` leaves out the result (it is derived from the chat's content).
    """

    result: dict[str, Any] = field(repr=False)
    report: ReportEntry


class Device:
    """One device: its config, its state folder, its token source and its network.

    ``transport`` stands in for the network (an in-memory harness wires the parties'
    ASGI apps here); ``local_address`` binds the real one to a source address."""

    def __init__(
        self,
        config: ClientConfig,
        home: Path,
        tokens: TokenSource,
        *,
        local_address: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        rng: random.Random | None = None,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.config = config
        self.home = home
        self.tokens = tokens
        self._now = now
        self._rng = rng or random.SystemRandom()
        if transport is not None and local_address is not None:
            raise MisuseError("Device: give a transport or a local address, not both")
        if transport is None and local_address:
            transport = httpx.HTTPTransport(local_address=local_address)
        self._http = httpx.Client(
            transport=transport,
            timeout=config.request_timeout if timeout is None else timeout,
            follow_redirects=False,
        )
        self._verified: VerifiedDirectory | None = None
        self._seen = SeenCheckpointStore(home / "seen-checkpoint")
        self.trust = Trust.from_config(config)

    def close(self) -> None:
        """Release the network clients."""
        self._http.close()
        close = getattr(self.tokens, "close", None)
        if callable(close):
            close()

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # --- discovery and verification ---------------------------------------------------

    def _get(self, path: str) -> bytes:
        url = self.config.directory_url.rstrip("/") + path
        try:
            answer = self._http.get(url)
        except httpx.HTTPError as exc:
            raise RemoteError(f"directory unreachable ({type(exc).__name__})", status=0) from None
        if answer.status_code != 200:
            raise RemoteError("directory refused", status=answer.status_code)
        return answer.content

    def verify(self, *, force: bool = False) -> VerifiedDirectory:
        """Fetch and verify (or reuse what was verified until it expires)."""
        now = self._now()
        cached = self._verified
        if cached is not None and not force and now < cached.expires:
            return cached
        keys = self._get("/ohttp-keys")
        bundle = self._get("/nodes")
        seen = self._seen.load()
        proof: list[bytes] = []
        served = _checkpoint_of(bundle)
        if seen is not None and served is not None and 0 < seen.size < served.size:
            raw = json.loads(self._get(f"/consistency/{seen.size}/{served.size}"))
            proof = [b64decode_strict(p, "consistency proof") for p in raw]
        verified = verify_directory(keys, bundle, self.trust, now=now, seen=seen, consistency=proof)
        self._seen.save(verified.newest)
        self._verified = verified
        return verified

    # --- features --------------------------------------------------------------------

    def summarize(self, chat: Chat) -> Answer:
        """The summary of ``chat``'s unread messages. Refuses an ``ai_blocked`` chat
        before anything leaves the device."""
        if chat.ai_blocked:
            raise PolicyError(
                "client.ai_blocked", "this chat has Advanced Chat Privacy on; nothing was sent"
            )
        return self._request("summarize", {"feature": "summarize", "chat": chat.to_json()})

    def rewrite(
        self,
        draft: str,
        tones: Sequence[str],
        language: str | None = None,
        *,
        chat: Chat | None = None,
    ) -> Answer:
        """Writing suggestions for ``draft`` in each of ``tones``. ``chat``, the chat the
        draft is for, is not sent; if it has Advanced Chat Privacy on (``ai_blocked``) the
        rewrite is refused before anything leaves the device, as a summary is."""
        if chat is not None and chat.ai_blocked:
            raise PolicyError(
                "client.ai_blocked", "this chat has Advanced Chat Privacy on; nothing was sent"
            )
        payload = {"feature": "rewrite", "draft": draft, "tones": list(tones), "language": language}
        return self._request("rewrite", payload)

    def chat(self, request: Mapping[str, Any]) -> Answer:
        """An OpenAI-style chat completion (``messages``, ``max_tokens``, ``temperature``,
        ``stop``) from a verified node's model; ``result["completion"]`` is the
        ``chat.completion`` object. The request is checked here first, so a bad one
        costs no token and leaves the device (privproc.workloads.completions)."""
        checked = parse_chat_request(request)
        payload = {
            "feature": "chat",
            "messages": [dict(m) for m in checked.messages],
            "max_tokens": checked.max_tokens,
            "temperature": checked.temperature,
            "stop": list(checked.stop),
            "stream": False,
        }
        return self._request("chat", payload)

    def _request(self, feature: str, payload: dict[str, Any]) -> Answer:
        verified = self.verify()
        token = self.tokens.take()
        try:
            return self._send(feature, payload, verified, token)
        except UnknownKeyError:
            # The gateway rotated its keys (RFC 9458 §5.3): refetch, verify, retry once.
            # The gateway could not open the request, so the token was never seen: reuse it.
            return self._send(feature, payload, self.verify(force=True), token)
        except RemoteError as exc:
            if exc.status not in _RETRY_STATUS or exc.problem in _NO_RETRY:
                raise
            # A gateway replica or a node was lost on the way (the relay or the balancer
            # answered 502/503/504): the request may have reached it and spent the token,
            # so the one retry is sealed afresh, to freshly picked nodes, with a fresh token
            # (a token is never sent twice). A failing store is not retried: it fails closed.
            return self._send(feature, payload, verified, self.tokens.take())

    def _send(
        self, feature: str, payload: dict[str, Any], verified: VerifiedDirectory, token: str
    ) -> Answer:
        chosen = self._rng.sample(list(verified.nodes), min(self.config.k, len(verified.nodes)))
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        sealed, secret = seal_request(body, [n.node_key for n in chosen])
        inner = bhttp.Request(
            "POST",
            "https",
            "gateway",
            "/process",
            headers=((b"authorization", token.encode()), (b"content-type", SEALED_MEDIA.encode())),
            content=sealed,
        )
        config = verified.key_config.config
        encapsulated, context = ohttp.encapsulate_request(config, bhttp.encode(inner))
        try:
            answer = self._http.post(
                self.config.relay_url,
                content=encapsulated,
                headers={"content-type": ohttp.MEDIA_TYPE_REQUEST},
            )
        except httpx.HTTPError as exc:
            raise RemoteError(f"relay unreachable ({type(exc).__name__})", status=0) from None
        if answer.status_code != 200:
            raise decode_problem(answer.status_code, answer.content, where="the relay or gateway")
        if len(answer.content) > MAX_OHTTP_RESPONSE:
            raise RemoteError("answer over the size limit", status=502)
        response = bhttp.decode_response(context.open(answer.content))
        if response.status != 200:
            raise decode_problem(response.status, response.content, where="the gateway")
        key_id, opened = secret.open_response(response.content)
        by_id = {_key_id(n): n for n in chosen}
        node = by_id.get(key_id)
        if node is None:
            raise OpenError
        result = _result(opened)
        entry = ReportEntry(
            time=self._now().isoformat(timespec="seconds"),
            feature=feature,
            sealed_bytes=len(sealed),
            named=tuple(
                {
                    "node": n.node,
                    "measurement": n.measurement.hex(),
                    "release_index": n.release_index,
                }
                for n in chosen
            ),
            answered_by=node.node,
            measurement=node.measurement.hex(),
            release_index=node.release_index,
            checkpoint_size=verified.checkpoint.size,
            key_config_id=config.key_id,
            key_config_index=verified.key_config.ledger_index,
            model_digest=node.model_digest.hex(),
        )
        append_report(self.home, entry)
        return Answer(result, entry)


def _key_id(node: TrustedNode) -> bytes:
    return node_key_id(node.node_key)


def _checkpoint_of(bundle: bytes) -> Checkpoint | None:
    try:
        doc = json.loads(bundle)
        return Checkpoint.parse(Note.decode(str(doc["checkpoint"]).encode()).text)
    except (ValueError, KeyError, TypeError, PrivprocError):
        return None


def _result(opened: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(opened)
    except ValueError:
        raise DecodeError("the node's answer is not JSON") from None
    if not isinstance(obj, dict):
        raise DecodeError("the node's answer is not an object")
    error = obj.get("error")
    if error is not None:
        status = error.get("status") if isinstance(error, dict) else None
        raise decode_problem(status if isinstance(status, int) else 422, error, where="the node")
    return obj
