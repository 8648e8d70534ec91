"""The issuer service: RFC 9578 over HTTP, with account authentication and daily quotas.

Routes:

* ``GET /.well-known/private-token-issuer-directory``: the issuer directory
  (RFC 9578 §4), media type ``application/private-token-issuer-directory``, active
  keys newest first, each with ``not-before``.
* ``POST /token-request``: body ``application/private-token-request``; answers 200
  with exactly ``Content-Type: application/private-token-response`` (RFC 9578 §6.2).
  A malformed request, an unsupported token type or an unknown key id gets 422
  (RFC 9578 §6.2); no or a bad account credential 401; the (N+1)th token of an
  account's day 429; a signed request already served (same body and
  ``PrivprocDevice`` credential, within the skew window) 403 with problem type
  ``replayed-request`` (check ``issuer.replay``), shared by every issuer on the same
  quota store; a failing quota store 503 (fails closed).
* ``POST /register``: JSON ``{"account": ..., "public_key": <b64url Ed25519>}``
  registers a device key (with an enrollment token: any number per account; without:
  the first key only, trust on first use).

The issuer keeps: its keys, device keys per account, and a count of tokens per
account per day. It never stores a blinded message, a signature or a token.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import json
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

from anyio import to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from privproc._http import error_boundary, read_body
from privproc.errors import (
    AuthError,
    BadTokenRequestError,
    DecodeError,
    MediaTypeError,
    MisuseError,
)
from privproc.issuer.auth import (
    Authenticator,
    DeviceKeyAuthenticator,
    DeviceRegistry,
    OpenAuthenticator,
)
from privproc.issuer.keys import DAY, KeyRing
from privproc.issuer.quota import QuotaStore, RedisQuotaStore, SqliteQuotaStore
from privproc.tokens import issuance
from privproc.tokens.protocol import (
    DIRECTORY_MEDIA_TYPE,
    DIRECTORY_PATH,
    REQUEST_MEDIA_TYPE,
    RESPONSE_MEDIA_TYPE,
    IssuerDirectory,
    TokenRequest,
    b64url_decode,
)

__all__ = ["REQUEST_PATH", "IssuerConfig", "IssuerService", "create_app"]

#: Where token requests go (the directory's ``issuer-request-uri``).
REQUEST_PATH = "/token-request"
_MAX_REQUEST = 1024
_MAX_REGISTER = 4096


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    """How an issuer runs. ``home`` is ``$PRIVPROC_HOME/issuer``."""

    home: Path
    quota_per_day: int = 100
    open: bool = False
    redis_url: str | None = None
    enroll_token: str | None = field(default=None, repr=False)
    key_lifetime: float = 7 * DAY
    key_overlap: float = DAY
    directory_max_age: int = 3600

    def __post_init__(self) -> None:
        if self.quota_per_day < 0:
            raise MisuseError("quota must be non-negative")


class IssuerService:
    """The issuer's state (keys, quota, authentication) behind the HTTP routes."""

    def __init__(
        self,
        config: IssuerConfig,
        *,
        clock: Callable[[], float] = time.time,
        authenticator: Authenticator | None = None,
        quota: QuotaStore | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        home = Path(config.home)
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.keys = KeyRing(home / "keys", lifetime=config.key_lifetime, overlap=config.key_overlap)
        self.keys.maintain(clock())
        self.registry = DeviceRegistry(home / "devices.db")
        if quota is None:
            quota = (
                RedisQuotaStore(config.redis_url)
                if config.redis_url
                else SqliteQuotaStore(home / "quota.db")
            )
        self.quota = quota
        if authenticator is None:
            authenticator = (
                OpenAuthenticator()
                if config.open
                else DeviceKeyAuthenticator(self.registry, replay=quota)
            )
        self.authenticator = authenticator

    def directory(self, now: float) -> IssuerDirectory:
        """The directory of keys active at ``now`` (rotating first if it is time)."""
        self.keys.maintain(now)
        entries = tuple(k.directory_entry() for k in self.keys.active(now))
        return IssuerDirectory(REQUEST_PATH, entries)

    def issue(self, authorization: str | None, body: bytes) -> bytes:
        """Authenticate, parse, count against the quota, sign (blocking; run in a thread)."""
        now = self.clock()
        account = self.authenticator.authenticate(authorization, body, now=now)
        try:
            request = TokenRequest.decode(body)
        except DecodeError as exc:
            raise BadTokenRequestError(str(exc)) from None
        self.keys.maintain(now)
        pairs = self.keys.pairs(now)
        if not any(p.token_key.truncated_key_id == request.truncated_token_key_id for p in pairs):
            raise BadTokenRequestError(
                f"no active token key with truncated id {request.truncated_token_key_id:#04x};"
                " refetch the issuer directory"
            )
        day = dt.datetime.fromtimestamp(now, dt.UTC).date().isoformat()
        self.quota.take(account, day, self.config.quota_per_day)
        return issuance.evaluate(pairs, request).encode()

    def register(self, authorization: str | None, body: bytes) -> None:
        """Register a device key for an account."""
        enroll = self.config.enroll_token
        if enroll is not None:
            scheme, _, given = (authorization or "").partition(" ")
            # RFC 9110 §11.1: the scheme is case-insensitive; the token is compared in
            # constant time.
            if scheme.lower() != "bearer" or not hmac.compare_digest(
                given.strip().encode(), enroll.encode()
            ):
                raise AuthError("device registration needs the enrollment token")
        try:
            data = json.loads(body)
            account = data["account"]
            public_key = b64url_decode(data["public_key"], "public_key")
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            raise DecodeError("registration: expected JSON with account and public_key") from None
        if not isinstance(account, str) or not 0 < len(account) <= 256 or not account.isprintable():
            raise DecodeError("registration: account must be 1..256 printable characters")
        if len(public_key) != 32:
            raise DecodeError("registration: public_key must be a 32-byte Ed25519 key")
        self.registry.register(account, public_key, first_only=enroll is None)

    def close(self) -> None:
        """Close the stores."""
        self.registry.close()
        self.quota.close()


def create_app(service: IssuerService) -> Starlette:
    """The issuer's ASGI application."""

    async def directory(request: Request) -> Response:
        del request
        body = service.directory(service.clock()).to_json()
        return Response(
            body,
            media_type=DIRECTORY_MEDIA_TYPE,
            headers={"cache-control": f"max-age={service.config.directory_max_age}"},
        )

    async def token_request(request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != REQUEST_MEDIA_TYPE:
            raise MediaTypeError(f"content-type must be {REQUEST_MEDIA_TYPE}")
        body = await read_body(request, _MAX_REQUEST)
        auth = request.headers.get("authorization")
        answer = await to_thread.run_sync(service.issue, auth, body)
        return Response(
            answer,
            headers={"content-type": RESPONSE_MEDIA_TYPE, "cache-control": "no-store"},
        )

    async def register(request: Request) -> Response:
        body = await read_body(request, _MAX_REGISTER)
        auth = request.headers.get("authorization")
        await to_thread.run_sync(service.register, auth, body)
        return Response(status_code=204)

    async def health(request: Request) -> Response:
        del request
        return Response("ok\n", media_type="text/plain")

    routes = [
        Route(DIRECTORY_PATH, error_boundary(directory), methods=["GET"]),
        Route(REQUEST_PATH, error_boundary(token_request), methods=["POST"]),
        Route("/register", error_boundary(register), methods=["POST"]),
        Route("/healthz", health, methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        del app
        try:
            yield
        finally:
            service.close()

    return Starlette(routes=routes, lifespan=lifespan)
