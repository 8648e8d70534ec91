"""The device SDK's I/O: fetch, verify (offline, :mod:`.verify`), seal, send, open.

:class:`Device` runs one request as DESIGN.md "One request" steps 1-9 say: take a
token; fetch the key configs and node bundle from the directory; verify them
(fail closed); seal the request to K randomly chosen verified nodes
(:mod:`privproc.sealed`); put it with the token in a binary HTTP request
(RFC 9292) encapsulated with OHTTP (RFC 9458) to the verified key config; POST it
to the relay; open the answer; record the request in the local report.

The ``stream_*`` methods ask the node to stream (docs/streaming.md): the request goes as
a chunked OHTTP request (draft-ietf-ohai-chunked-ohttp-08), the answer comes back as a
chunked response holding an indeterminate-length binary HTTP response whose content is
the node's sealed stream (:class:`privproc.sealed.StreamOpener`), and a :class:`Stream`
yields each event as its frame opens. A stream cut short is
:class:`~privproc.errors.TruncatedError`; reordered, replayed, altered or spliced frames
are :class:`~privproc.errors.OpenError`; nothing of such a stream is taken as the answer.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx

from privproc import bhttp, ohttp, ohttp_chunked
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
    TruncatedError,
    UnknownKeyError,
)
from privproc.ledger.checkpoint import Checkpoint
from privproc.ledger.note import Note, b64decode_strict
from privproc.ledger.seen import SeenCheckpointStore
from privproc.limits import MAX_OHTTP_RESPONSE, MAX_OHTTP_STREAM, MAX_PAYLOAD, MAX_SEALED_RESPONSE
from privproc.problem import decode_problem
from privproc.sealed import RequestSecret, node_key_id, seal_request
from privproc.workloads.chat import Chat
from privproc.workloads.completions import parse_chat_request

__all__ = ["SEALED_MEDIA", "SEALED_STREAM_MEDIA", "Answer", "Device", "Stream", "TokenSource"]

#: Statuses of a lost hop that the device retries once (with a fresh token).
_RETRY_STATUS = frozenset({502, 503, 504})
#: Problems that are not a lost hop: a store that fails closed, a party not ready.
_NO_RETRY = frozenset({"store-unavailable", "not-ready"})


def _lost_hop(exc: RemoteError) -> bool:
    """A 502/503/504 from the relay or balancer that is not a store failing closed."""
    return exc.status in _RETRY_STATUS and exc.problem not in _NO_RETRY


SEALED_MEDIA = "application/privproc-sealed"
SEALED_STREAM_MEDIA = "application/privproc-sealed-stream"
#: The events a streamed answer holds (privproc.enclave.features): one key each.
_EVENT_KINDS = frozenset({"delta", "chunk", "done", "error", "withdrawn"})


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


class Stream:
    """A streamed answer: iterate it for its events as they arrive (``{"delta": ...}``,
    ``{"chunk": ...}`` for chats, and last ``{"done": result}``). Once the last event is
    out, :attr:`result` is the whole answer (as :attr:`Answer.result`) and :attr:`report`
    the report entry appended on the device. Iterate it once.

    ``repr()`` shows no content.
    """

    def __init__(self, events: Callable[[Stream], Iterator[dict[str, Any]]]) -> None:
        self.result: dict[str, Any] | None = None
        self.report: ReportEntry | None = None
        self._events = events(self)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._events

    def __repr__(self) -> str:
        return f"Stream(done={self.result is not None})"


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

    # --- streamed features -----------------------------------------------------------

    def stream_summarize(self, chat: Chat) -> Stream:
        """:meth:`summarize`, streamed: the summary's lines as they arrive."""
        if chat.ai_blocked:
            raise PolicyError(
                "client.ai_blocked", "this chat has Advanced Chat Privacy on; nothing was sent"
            )
        return self._stream("summarize", {"feature": "summarize", "chat": chat.to_json()})

    def stream_rewrite(
        self,
        draft: str,
        tones: Sequence[str],
        language: str | None = None,
        *,
        chat: Chat | None = None,
    ) -> Stream:
        """:meth:`rewrite`, streamed: each tone's suggestion as it is written."""
        if chat is not None and chat.ai_blocked:
            raise PolicyError(
                "client.ai_blocked", "this chat has Advanced Chat Privacy on; nothing was sent"
            )
        payload = {"feature": "rewrite", "draft": draft, "tones": list(tones), "language": language}
        return self._stream("rewrite", payload)

    def stream_chat(self, request: Mapping[str, Any]) -> Stream:
        """:meth:`chat`, streamed: ``{"chunk": chat.completion.chunk}`` per token."""
        checked = parse_chat_request(request)
        payload = {
            "feature": "chat",
            "messages": [dict(m) for m in checked.messages],
            "max_tokens": checked.max_tokens,
            "temperature": checked.temperature,
            "stop": list(checked.stop),
        }
        return self._stream("chat", payload)

    def _stream(self, feature: str, payload: dict[str, Any]) -> Stream:
        payload = {**payload, "stream": True}
        verified = self.verify()  # before anything is taken or sent: fail closed now
        token = self.tokens.take()

        def events(out: Stream) -> Iterator[dict[str, Any]]:
            # The retries of :meth:`_request`, taken only before the first event: once
            # part of an answer was shown, a break is the stream's (TruncatedError).
            stream = self._stream_once(feature, payload, verified, token, out)
            try:
                first = next(stream)
            except UnknownKeyError:  # refetch keys, retry once (RFC 9458 §5.3), same token
                stream = self._stream_once(feature, payload, self.verify(force=True), token, out)
                first = next(stream)
            except RemoteError as exc:
                if not _lost_hop(exc):
                    raise
                stream = self._stream_once(feature, payload, verified, self.tokens.take(), out)
                first = next(stream)
            yield first
            yield from stream

        return Stream(events)

    def _seal(
        self, payload: dict[str, Any], verified: VerifiedDirectory, token: str
    ) -> tuple[list[TrustedNode], bytes, RequestSecret, bhttp.Request]:
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
        return chosen, sealed, secret, inner

    def _stream_once(
        self,
        feature: str,
        payload: dict[str, Any],
        verified: VerifiedDirectory,
        token: str,
        out: Stream,
    ) -> Iterator[dict[str, Any]]:
        chosen, sealed, secret, inner = self._seal(payload, verified, token)
        config = verified.key_config.config
        sender, receiver = ohttp_chunked.encapsulate_chunked_request(config)
        encapsulated = sender.finish(bhttp.encode(inner, framing="indeterminate"))
        reader = _StreamReader(secret)
        try:
            with self._http.stream(
                "POST",
                self.config.relay_url,
                content=encapsulated,
                headers={"content-type": ohttp_chunked.MEDIA_TYPE_CHUNKED_REQUEST},
            ) as answer:
                if answer.status_code != 200:
                    raise decode_problem(
                        answer.status_code,
                        _read_small(answer),
                        where="the relay or gateway",
                    )
                media = answer.headers.get("content-type", "").split(";")[0].strip().lower()
                if media != ohttp_chunked.MEDIA_TYPE_CHUNKED_RESPONSE:
                    raise RemoteError("the relay answered an unexpected media type", status=502)
                total = 0
                for data in answer.iter_raw():
                    total += len(data)
                    if total > MAX_OHTTP_STREAM:
                        raise RemoteError("answer over the size limit", status=502)
                    for plain in receiver.feed(data):
                        yield from reader.feed(plain)
        except httpx.HTTPError:
            raise TruncatedError("the answer's stream broke off before its end") from None
        yield from reader.feed(receiver.end())
        result = reader.end()
        node = {_key_id(n): n for n in chosen}.get(reader.key_id or b"")
        if node is None:
            raise OpenError
        out.result = result
        out.report = self._report(feature, sealed, chosen, node, verified)
        yield {"done": result}

    def _report(
        self,
        feature: str,
        sealed: bytes,
        chosen: Sequence[TrustedNode],
        node: TrustedNode,
        verified: VerifiedDirectory,
    ) -> ReportEntry:
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
            key_config_id=verified.key_config.config.key_id,
            key_config_index=verified.key_config.ledger_index,
            model_digest=node.model_digest.hex(),
        )
        append_report(self.home, entry)
        return entry

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
            if not _lost_hop(exc):
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
        return Answer(result, self._report(feature, sealed, chosen, node, verified))


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


def _read_small(answer: httpx.Response) -> bytes:
    """A refusal's body (a problem document), at most :data:`MAX_PAYLOAD` bytes."""
    held = bytearray()
    for data in answer.iter_raw():
        held += data
        if len(held) > MAX_PAYLOAD:
            break
    return bytes(held[:MAX_PAYLOAD])


class _StreamReader:
    """Inside a chunked response: the binary HTTP response (RFC 9292 §3.2) and in it the
    sealed stream (or a whole sealed answer, or a gateway's problem); events out."""

    def __init__(self, secret: RequestSecret) -> None:
        self._secret = secret
        self._http = bhttp.ResponseStream()
        self._opener = secret.stream_opener()
        self._kind = ""  # "stream", "whole" or "problem", once the head is read
        self._held = bytearray()  # a whole answer or problem (bounded), or a partial line
        self._result: dict[str, Any] | None = None
        self._text: list[str] = []  # a chat's streamed text
        self._deltas: list[str] = []  # a summary's streamed lines since the last withdrawal
        self._key_id: bytes | None = None

    @property
    def key_id(self) -> bytes | None:
        return self._key_id

    def feed(self, plain: bytes) -> Iterator[dict[str, Any]]:
        for content in self._http.feed(plain):
            if not self._kind:
                self._kind = self._head_kind()
            if self._kind == "stream":
                for piece in self._opener.feed(content):
                    yield from self._lines(piece)
            else:
                self._held += content
                if len(self._held) > MAX_SEALED_RESPONSE:
                    raise RemoteError("answer over the size limit", status=502)

    def _head_kind(self) -> str:
        head = self._http.head
        assert head is not None  # content comes only after the head
        media = next((v for k, v in head.headers if k == b"content-type"), b"")
        if head.status != 200:
            return "problem"
        if media == SEALED_STREAM_MEDIA.encode():
            return "stream"
        if media == SEALED_MEDIA.encode():
            return "whole"
        raise DecodeError("the gateway's answer has an unknown content type")

    def _lines(self, piece: bytes) -> Iterator[dict[str, Any]]:
        self._held += piece
        if len(self._held) > MAX_PAYLOAD:
            raise DecodeError("the node's stream holds an event over the size limit")
        while (cut := self._held.find(b"\n")) >= 0:
            line = bytes(self._held[:cut])
            del self._held[: cut + 1]
            event = self._event(line)
            if event is not None:
                yield event

    def _event(self, line: bytes) -> dict[str, Any] | None:
        if self._result is not None:
            raise DecodeError("the node's stream goes on after its result")
        try:
            event = json.loads(line)
        except ValueError:
            raise DecodeError("the node's stream holds an event that is not JSON") from None
        if not isinstance(event, dict) or len(event) < 1 or not set(event) & _EVENT_KINDS:
            raise DecodeError("the node's stream holds an event of no known kind")
        if "error" in event:
            _result(json.dumps({"error": event["error"]}).encode())  # raises its problem
        if "done" in event:
            done = event["done"]
            if not isinstance(done, dict):
                raise DecodeError("the node's result is not an object")
            self._result = _result(json.dumps(done).encode())
            self._check_chat_text(self._result)
            self._check_summary_text(self._result)
            return None  # the device yields "done" itself, once the stream is complete
        if "chunk" in event:
            self._text.append(_chunk_text(event["chunk"]))
        elif "withdrawn" in event:
            _withdrawn(event["withdrawn"], len(self._deltas))
            self._deltas.clear()
        elif "delta" in event and "tone" not in event:
            if not isinstance(event["delta"], str):
                raise DecodeError("the node's delta is not text")
            self._deltas.append(event["delta"])
        return event

    def _check_summary_text(self, result: dict[str, Any]) -> None:
        summary = result.get("summary")
        if summary is None:
            return
        if not isinstance(summary, dict) or summary.get("text") != "".join(self._deltas):
            raise DecodeError("the node's summary is not the text it streamed")

    def _check_chat_text(self, result: dict[str, Any]) -> None:
        completion = result.get("completion")
        if completion is None:
            return
        try:
            whole = completion["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise DecodeError("the node's completion has no message") from None
        if whole != "".join(self._text):
            raise DecodeError("the node's completion is not the text it streamed")

    def end(self) -> dict[str, Any]:
        """After the chunked response ended whole: the result, or the refusal raised."""
        self._http.end()
        head = self._http.head
        assert head is not None  # end() raises before the head
        if not self._kind:
            self._kind = self._head_kind()
        if self._kind == "problem":
            raise decode_problem(head.status, bytes(self._held), where="the gateway")
        if self._kind == "whole":
            key_id, opened = self._secret.open_response(bytes(self._held))
            self._key_id = key_id
            return _result(opened)
        self._opener.end()
        self._key_id = self._opener.key_id
        if self._held:
            raise DecodeError("the node's stream ends inside an event")
        if self._result is None:
            raise DecodeError("the node's stream ended without its result")
        return self._result


def _withdrawn(withdrawn: object, shown: int) -> None:
    """A ``withdrawn`` event names how many lines it withdraws (all shown so far) and why."""
    if (
        not isinstance(withdrawn, dict)
        or withdrawn.get("lines") != shown
        or not isinstance(withdrawn.get("why"), str)
    ):
        raise DecodeError("the node's withdrawal does not match the lines it streamed")


def _chunk_text(chunk: object) -> str:
    try:
        content = chunk["choices"][0]["delta"].get("content", "")  # type: ignore[index]
    except (KeyError, IndexError, TypeError, AttributeError):
        raise DecodeError("the node's chunk is not a chat.completion.chunk") from None
    return content if isinstance(content, str) else ""
