"""The app's HTTP side: one page, two static files, a small JSON API, and its guards.

It is a local web server holding the user's messages, so it is built like one:

* **Host check** (DNS rebinding): a request whose ``Host`` header is not one of the
  names the app was started under is refused with 403 before anything else runs
  (RFC 9110 §7.2: the ``Host`` names the target the client meant).
* **Per-launch token** (CSRF): every ``/api/`` call carries the token of this launch in
  ``X-Privproc-Token`` (a header a cross-site form cannot set, and that a cross-origin
  ``fetch`` cannot send without a CORS preflight this server never grants); missing or
  wrong -> 403. The page carries it in a ``<meta>``; it is compared in constant time.
* **Content Security Policy** (CSP Level 3): scripts, styles and requests only from this
  origin, no inline script, no frames, no forms posting elsewhere; plus ``nosniff``,
  ``no-referrer`` and ``no-store`` on every answer.
* Every asset comes from the package (``webapp/static/``): no CDN. What it keeps (the
  privacy switches; the device's tokens and report) is under ``$PRIVPROC_HOME/client/``.

Errors are the named check in plain words (:func:`.views.error_view`), never a trace.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from privproc.client.report import read_reports
from privproc.client.sdk import Device
from privproc.errors import DecodeError, MisuseError, PolicyError, PrivprocError
from privproc.webapp import views
from privproc.webapp.chats import ChatBook
from privproc.webapp.page import render_page
from privproc.workloads.chat import Chat
from privproc.workloads.rewrite import TONES

__all__ = ["CSP", "SECURITY_HEADERS", "TOKEN_HEADER", "allowed_hosts", "build_app"]

log = logging.getLogger(__name__)

TOKEN_HEADER = "x-privproc-token"  # noqa: S105 - a header name
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
_STATIC = {"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8"}
_MAX_BODY = 64 * 1024
_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def allowed_hosts(host: str, port: int) -> tuple[str, ...]:
    """The ``Host`` values the app answers to: the loopback names, and ``host`` itself."""
    names = {*_LOOPBACK, f"[{host}]" if ":" in host else host}
    return tuple(sorted(f"{name}:{port}" for name in names))


class _Device:
    """The device SDK, opened on first use, one request at a time (it is synchronous)."""

    def __init__(self, opener: Callable[[], Device]) -> None:
        self._opener = opener
        self._device: Device | None = None
        self._lock = threading.Lock()

    def run(self, job: Callable[[Device], Any]) -> Any:
        with self._lock:
            if self._device is None:
                self._device = self._opener()
            return job(self._device)

    def close(self) -> None:
        with self._lock:
            if self._device is not None:
                self._device.close()
                self._device = None


def _forbidden(reason: str) -> Response:
    return PlainTextResponse(reason, status_code=403, headers=SECURITY_HEADERS)


def _refused(exc: PrivprocError) -> JSONResponse:
    status = exc.http_status if 400 <= exc.http_status < 600 else 500
    return JSONResponse({"error": views.error_view(exc)}, status_code=status)


async def _json_body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _MAX_BODY:
        raise DecodeError("request body too large")
    try:
        obj = json.loads(raw)
    except ValueError:
        raise DecodeError("request body is not JSON") from None
    if not isinstance(obj, dict):
        raise DecodeError("request body is not an object")
    return obj


def _api(
    handler: Callable[[Request], Awaitable[Any]],
) -> Callable[[Request], Awaitable[Response]]:
    """A JSON endpoint: the handler's value, or the error as the named check in plain words."""

    async def endpoint(request: Request) -> Response:
        try:
            return JSONResponse(await handler(request))
        except PrivprocError as exc:
            return _refused(exc)
        except Exception as exc:  # noqa: BLE001 - the page shows no trace, ever
            log.warning("app: %s failed: %s", request.url.path, type(exc).__name__)
            return JSONResponse(
                {"error": {"check": "app", "words": "Something went wrong"}}, status_code=500
            )

    return endpoint


class _Guard:
    """The Host check and the token check, and the security headers on every answer."""

    def __init__(self, token: str, hosts: Sequence[str]) -> None:
        self._token = token.encode()
        self._hosts = frozenset(h.lower() for h in hosts)

    async def __call__(
        self, request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        if request.headers.get("host", "").lower() not in self._hosts:
            return _forbidden("wrong Host")
        if request.url.path.startswith("/api/"):
            given = request.headers.get(TOKEN_HEADER, "").encode()
            if not hmac.compare_digest(given, self._token):
                return _forbidden("missing or wrong token")
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        return response


class _Handlers:
    """The page, the static files and the API, over one chat book and one device."""

    def __init__(self, book: ChatBook, device: _Device, device_home: Path, token: str) -> None:
        self.book = book
        self.device = device
        self.device_home = device_home
        self.token = token

    async def page(self, request: Request) -> Response:
        chats = self.book.all()
        wanted = request.query_params.get("chat", chats[0].id)
        try:
            stored = self.book.get(wanted)
        except PrivprocError:
            stored = chats[0]
        return HTMLResponse(render_page(chats, stored, self.token))

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        if name not in _STATIC:
            return PlainTextResponse("not found", status_code=404)
        body = (resources.files("privproc.webapp") / "static" / name).read_bytes()
        return Response(body, media_type=_STATIC[name])

    def _chat(self, body: dict[str, Any]) -> Chat:
        """The chat an AI request is for; refused here, before the device is even
        opened, when its Advanced Chat Privacy is on (the SDK refuses it too)."""
        chat_id = body.get("chat")
        if not isinstance(chat_id, str):
            raise DecodeError("chat: a chat id")
        chat = self.book.get(chat_id).chat
        if chat.ai_blocked:
            raise PolicyError(
                "client.ai_blocked", "this chat has Advanced Chat Privacy on; nothing was sent"
            )
        return chat

    async def summarize(self, request: Request) -> Any:
        chat = self._chat(await _json_body(request))
        answer = await run_in_threadpool(self.device.run, lambda d: d.summarize(chat))
        summary = answer.result["summary"]
        return {"summary": summary["text"], "points": summary["points"]}

    async def suggest(self, request: Request) -> Any:
        body = await _json_body(request)
        chat = self._chat(body)
        draft, tones = body.get("draft"), body.get("tones")
        if not isinstance(draft, str) or not draft.strip():
            raise DecodeError("draft: write a message first")
        if not isinstance(tones, list) or not tones or any(t not in TONES for t in tones):
            raise DecodeError(f"tones: one or more of {', '.join(TONES)}")
        answer = await run_in_threadpool(
            self.device.run, lambda d: d.rewrite(draft, tones, chat.base_language)
        )
        rewrites = answer.result["rewrites"]
        return {"proofread": rewrites["proofread"], "rewrites": rewrites["rewrites"]}

    async def privacy(self, request: Request) -> Any:
        body = await _json_body(request)
        chat_id, on = body.get("chat"), body.get("on")
        if not isinstance(chat_id, str) or not isinstance(on, bool):
            raise DecodeError("privacy: a chat id and on: true or false")
        stored = await run_in_threadpool(self.book.set_privacy, chat_id, on)
        return {"chat": stored.id, "on": stored.chat.ai_blocked}

    async def verification(self, _request: Request) -> Any:
        verified = await run_in_threadpool(self.device.run, lambda d: d.verify(force=True))
        reports = await run_in_threadpool(read_reports, self.device_home)
        return views.verification_view(verified, reports)

    async def requests(self, _request: Request) -> Any:
        return views.requests_view(await run_in_threadpool(read_reports, self.device_home))


def build_app(
    book: ChatBook,
    opener: Callable[[], Device],
    *,
    token: str,
    hosts: Sequence[str],
    device_home: Path,
) -> Starlette:
    """The app: ``book``'s chats, requests through the device ``opener`` returns.

    ``app.state.close_device()`` closes the device once the server stops."""
    if len(token) < 32:
        raise MisuseError("the launch token must carry at least 128 bits")
    device = _Device(opener)
    h = _Handlers(book, device, device_home, token)
    routes = [
        Route("/", h.page),
        Route("/static/{name}", h.static),
        Route("/api/summarize", _api(h.summarize), methods=["POST"]),
        Route("/api/suggest", _api(h.suggest), methods=["POST"]),
        Route("/api/privacy", _api(h.privacy), methods=["POST"]),
        Route("/api/verification", _api(h.verification)),
        Route("/api/requests", _api(h.requests)),
    ]
    guard = _Guard(token, hosts)
    app = Starlette(routes=routes, middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard)])
    app.state.close_device = device.close
    return app
