"""The feature payloads a node runs, as JSON in and JSON out (docs/e2e.md, "Payloads").

Request payloads (inside the sealed request)::

    {"feature": "summarize", "chat": {...DESIGN.md chat...}}
    {"feature": "rewrite", "draft": "...", "tones": ["friendly", ...], "language": "en" | null}
    {"feature": "chat", "messages": [{"role", "content"}], "max_tokens", "temperature",
     "stop", "stream"}                    (privproc.workloads.completions)

Response payloads (inside the sealed response)::

    {"summary": {"text", "language", "unread", "method", "points": [...]}}
        each point {"sender", "text", "message", "messages", "kind"}: ``messages`` are the
        indices in the chat of every message the point comes from (the device shows them)
    {"rewrites": {"language", "proofread", "method", "rewrites": {tone: text}}}
    {"completion": {...an OpenAI chat.completion object...}}
    {"error": {"type", "title", "status", "detail"}}   a refusal after opening (say,
                                          ai_blocked): the RFC 9457 problem of privproc.problem

A payload with ``"stream": true`` is answered as it is produced (:func:`stream_feature`,
docs/streaming.md): a sequence of JSON lines, each one event::

    {"delta": "..."}                      summarize: the summary, line by line, each line
                                          once it passed its checks (a model's while it
                                          writes the next); rewrite: one tone's text (with
                                          "tone"), as each tone is written
    {"withdrawn": {"lines", "why"}}       summarize: a model's later line was refused; the
                                          lines shown are withdrawn, the embedded
                                          summary's lines follow
    {"chunk": {...chat.completion.chunk}} chat: one per token delta the model writes
    {"done": {...the response payload above}}       the last event of a whole answer
    {"error": {...problem}}                         a refusal, instead of "done"

Runs only in the per-request child; errors name checks, never content. Peer input that
fails a check is a PeerError; a MisuseError here is a bug of ours and answers "internal".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from privproc.errors import DecodeError, MisuseError, PrivprocError
from privproc.problem import INTERNAL, problem_document
from privproc.workloads import (
    Backend,
    Chat,
    Summary,
    Withdrawn,
    stream_unread,
    suggest_rewrites,
    summarize_unread,
)
from privproc.workloads.completions import complete_chat, parse_chat_request, stream_chat
from privproc.workloads.rewrite import MAX_DRAFT_CHARS, TONES

__all__ = ["run_feature", "stream_feature"]


def _decode(payload: bytes) -> dict[str, Any]:
    try:
        obj = json.loads(payload)
    except (ValueError, RecursionError):
        raise DecodeError("payload is not JSON") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("feature"), str):
        raise DecodeError("payload: no feature")
    return obj


def _summarize(obj: dict[str, Any], backend: Backend) -> dict[str, Any]:
    return _summary_payload(summarize_unread(Chat.from_json(obj.get("chat")), backend=backend))


def _summary_events(obj: dict[str, Any], backend: Backend) -> Iterator[dict[str, Any]]:
    """The streamed summary's events: its lines as deltas (a newline before each but the
    first, so the deltas since the last ``withdrawn`` join to the summary's text)."""
    first = True
    for item in stream_unread(Chat.from_json(obj.get("chat")), backend=backend):
        if isinstance(item, Summary):
            yield {"done": _summary_payload(item)}
        elif isinstance(item, Withdrawn):
            yield {"withdrawn": {"lines": item.lines, "why": item.why}}
            first = True
        else:
            yield {"delta": item if first else "\n" + item}
            first = False


def _summary_payload(summary: Summary) -> dict[str, Any]:
    return {
        "summary": {
            "text": summary.text,
            "language": summary.language,
            "unread": summary.unread,
            "method": summary.method,
            "points": [p.to_json() for p in summary.points],
        }
    }


def _rewrite_args(obj: dict[str, Any]) -> tuple[str, list[str], str | None]:
    draft, tones, language = obj.get("draft"), obj.get("tones"), obj.get("language")
    if not isinstance(draft, str) or not isinstance(tones, list):
        raise DecodeError("payload: rewrite needs a draft and tones")
    if not all(isinstance(t, str) for t in tones) or not (
        language is None or isinstance(language, str)
    ):
        raise DecodeError("payload: bad tones or language")
    if not tones or any(t not in TONES for t in tones) or len(draft) > MAX_DRAFT_CHARS:
        raise DecodeError(f"payload: tones must be some of {', '.join(TONES)}; draft bounded")
    return draft, tones, language


def _rewrite(obj: dict[str, Any], backend: Backend) -> dict[str, Any]:
    draft, tones, language = _rewrite_args(obj)
    result = suggest_rewrites(draft, tones, backend=backend, language=language)
    return {
        "rewrites": {
            "language": result.language,
            "proofread": result.proofread,
            "method": result.method,
            "rewrites": {r.tone: r.text for r in result.rewrites},
        }
    }


def run_feature(payload: bytes, backend: Backend) -> bytes:
    """Run the feature ``payload`` names; a refusal becomes ``{"error": problem}``."""
    try:
        obj = _decode(payload)
        feature = obj["feature"]
        if feature == "summarize":
            out = _summarize(obj, backend)
        elif feature == "rewrite":
            out = _rewrite(obj, backend)
        elif feature == "chat":
            out = {"completion": complete_chat(parse_chat_request(obj), backend)}
        else:
            raise DecodeError("payload: unknown feature")
    except MisuseError:
        out = {"error": INTERNAL}
    except PrivprocError as exc:
        out = {"error": problem_document(exc)}
    return json.dumps(out, ensure_ascii=False, separators=(",", ":")).encode()


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"


def stream_feature(payload: bytes, backend: Backend) -> Iterator[bytes] | None:
    """The events answering a payload that asks to stream (module docstring), as JSON
    lines; ``None`` when it does not ask (or does not parse: :func:`run_feature` answers)."""
    try:
        obj = _decode(payload)
    except PrivprocError:
        return None
    if obj.get("stream") is not True:
        return None
    return _events(obj, backend)


def _events(obj: dict[str, Any], backend: Backend) -> Iterator[bytes]:
    try:
        feature = obj["feature"]
        if feature == "summarize":
            for event in _summary_events(obj, backend):
                yield _line(event)
        elif feature == "rewrite":
            draft, tones, language = _rewrite_args(obj)
            first = None
            texts: dict[str, str] = {}
            for tone in tones:  # each tone is written (and sent) before the next starts
                result = suggest_rewrites(draft, [tone], backend=backend, language=language)
                first = first or result
                texts[tone] = result.rewrites[0].text
                yield _line({"delta": texts[tone], "tone": tone})
            assert first is not None  # _rewrite_args refuses an empty tone list
            done = {
                "language": first.language,
                "proofread": first.proofread,
                "method": first.method,
                "rewrites": texts,
            }
            yield _line({"done": {"rewrites": done}})
        elif feature == "chat":
            for event in stream_chat(parse_chat_request(obj), backend):
                yield _line(event)
        else:
            raise DecodeError("payload: unknown feature")
    except MisuseError:
        yield _line({"error": INTERNAL})
    except PrivprocError as exc:
        yield _line({"error": problem_document(exc)})
