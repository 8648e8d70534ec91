"""The one error encoding of the private path: RFC 9457 problem details.

Every party answers a refusal with the same document, wherever it travels: an HTTP body
(``application/problem+json``, RFC 9457 §3), the inner Binary HTTP response the gateway
seals to the device (RFC 9292 inside RFC 9458), and the node's sealed answer
(``{"error": <problem>}``). :func:`decode_problem` is the device's one decoder from such a
document back to an exception of the tree (:mod:`privproc.errors`).

A problem's ``detail`` is the error's own message, which by construction never holds
request content: errors name checks, lengths and public values only.
"""

from __future__ import annotations

import json
from typing import Any

from privproc.errors import (
    PolicyError,
    PrivprocError,
    RemoteError,
    ReplayError,
    TokenError,
    UnknownKeyError,
)

__all__ = [
    "INTERNAL",
    "PROBLEM_JSON",
    "PROBLEM_TYPE_KEY",
    "decode_problem",
    "encode_problem",
    "problem_document",
]

#: RFC 9457 §3 media type.
PROBLEM_JSON = "application/problem+json"
#: RFC 9458 §5.3 and §9.5: problem type for an outdated or unknown key configuration.
PROBLEM_TYPE_KEY = "https://iana.org/assignments/http-problem-types#ohttp-key"
#: The document of an error that is not privproc's: nothing of it is told to the peer.
INTERNAL: dict[str, Any] = {
    "type": "urn:privproc:problem:internal",
    "title": "internal",
    "status": 500,
}
_MAX_PROBLEM = 4096
_MAX_TITLE = 64


def problem_document(exc: PrivprocError) -> dict[str, Any]:
    """``exc`` as an RFC 9457 §3.1 problem object (type, title, status, detail)."""
    return {
        "type": f"urn:privproc:problem:{exc.code}",
        "title": exc.code,
        "status": exc.http_status,
        "detail": str(exc),
    }


def encode_problem(exc: PrivprocError) -> bytes:
    """``exc`` as an ``application/problem+json`` body."""
    return json.dumps(problem_document(exc)).encode()


def _title(doc: object) -> str:
    if not isinstance(doc, dict):
        return ""
    if doc.get("type") == PROBLEM_TYPE_KEY:
        return "ohttp-key"
    title = doc.get("title", "")
    if not isinstance(title, str) or len(title) > _MAX_TITLE or not title.isascii():
        return ""
    return title


def _parse(body: bytes | object) -> object:
    if not isinstance(body, bytes | bytearray):
        return body
    if len(body) > _MAX_PROBLEM:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        return None


def decode_problem(status: int, body: bytes | object, *, where: str) -> PrivprocError:
    """The exception of the tree that a peer's problem (``body``: bytes or a parsed object)
    with HTTP ``status`` stands for; ``where`` says who refused ("the gateway", "the node").

    Never raises: a body that is not a problem still becomes a :class:`RemoteError`.
    """
    title = _title(_parse(body))
    if title == "ohttp-key":
        return UnknownKeyError("the gateway no longer accepts this key config")
    if title == "replay":
        return ReplayError("the gateway saw this token before")
    if status == 401 or title == "bad-token":
        return TokenError("gateway.token", "the gateway refused the token", found=title)
    if title == "policy":
        return PolicyError("node.policy", "the node refused the request by policy")
    return RemoteError(f"{where} refused", status=status, problem=title)
