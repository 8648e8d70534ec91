"""The consent service: read and change an account's consent, object in one step.

Routes (JSON bodies; errors are RFC 9457 problems from :mod:`privproc._http`):

==========================================  =========  ====================================
``POST /objection``                         account    refuse, at once; returns a receipt
``GET  /accounts/{account}``                account*   the account's consent now
``PUT  /accounts/{account}/consent``        account*   ``{"state": "granted"|"refused"}``
``GET  /accounts/{account}/history``        account*   every event, oldest first
``POST /accounts``                          operator   ``{"account", "region"}``: register;
                                                       returns the account's secret, once
``POST /lookup``                            operator   ``{"accounts": [...]}``: bulk status
``GET  /key``                               anyone     the receipt key (Ed25519, raw, b64url)
``GET  /policy``                            anyone     the region table and the default
``GET  /healthz``                           anyone     liveness
==========================================  =========  ====================================

"account" means ``Authorization: Bearer <the account's secret>``; "account*" also
accepts the operator's token (a change made with it is recorded as source
``operator``). A missing or wrong credential is refused with 401 before anything
is read or changed.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from privproc._http import error_boundary, read_body
from privproc.consent.events import (
    ConsentState,
    ConsentStatus,
    check_account,
    check_region,
    format_time,
    loads_strict,
)
from privproc.consent.receipt import b64url, issue_receipt, key_id
from privproc.consent.regions import ASK_REQUIRED, RegionPolicy
from privproc.consent.store import ConsentStore
from privproc.consent_service.home import new_secret
from privproc.errors import AuthError, DecodeError, NotFoundError

__all__ = ["MAX_LOOKUP", "create_app", "hash_secret", "status_json"]

#: Accounts per ``POST /lookup``.
MAX_LOOKUP = 1000
_MAX_BODY = 4096
_MAX_LOOKUP_BODY = 200 * MAX_LOOKUP
_OPERATOR = ""  # the caller id of the operator's token


def hash_secret(secret: str) -> bytes:
    """What the store keeps of a bearer secret: its SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).digest()


def status_json(status: ConsentStatus, policy: RegionPolicy) -> dict[str, object]:
    """An account's status as JSON, with its effective consent under ``policy``."""
    return {
        "account": status.account,
        "region": status.region,
        "state": status.state.value,
        "effective": policy.effective(status.state, status.region).value,
        "asks_first": policy.asks_first(status.region),
        "seq": status.seq,
        "updated": format_time(status.updated),
    }


async def _json(request: Request, limit: int = _MAX_BODY) -> dict[str, object]:
    body = await read_body(request, limit)
    obj = loads_strict(body, "body")
    if not isinstance(obj, dict):
        raise DecodeError("body: expected a JSON object")
    return obj


class _Service:
    """The handlers; :func:`create_app` routes to them."""

    def __init__(
        self,
        store: ConsentStore,
        signing_key: Ed25519PrivateKey,
        admin_token: str,
        policy: RegionPolicy,
        now: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.signing_key = signing_key
        self.admin_hash = hash_secret(admin_token)
        self.policy = policy
        self.now = now
        self.public_key = signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    async def caller(self, request: Request) -> str:
        """The account the bearer credential belongs to ('' for the operator), or 401."""
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token or len(token) > 256:
            raise AuthError("a bearer credential is required")
        digest = hash_secret(token)
        if hmac.compare_digest(digest, self.admin_hash):
            return _OPERATOR
        account = await run_in_threadpool(self.store.account_for, digest)
        if account is None:
            raise AuthError("unknown credential")
        return account

    async def owner_or_operator(self, request: Request) -> tuple[str, str]:
        who = await self.caller(request)
        account = check_account(request.path_params["account"])
        if who not in (_OPERATOR, account):
            raise AuthError("credential is not for this account")
        return account, who

    async def operator(self, request: Request) -> None:
        if await self.caller(request) != _OPERATOR:
            raise AuthError("operator credential required")

    def changed(self, account: str, state: ConsentState, source: str) -> dict[str, object]:
        event = self.store.change(account, state, source, self.now())
        receipt = issue_receipt(event, self.signing_key)
        return {"event": event.to_json(), "receipt": receipt.to_json()}

    async def objection(self, request: Request) -> Response:
        who = await self.caller(request)
        if who == _OPERATOR:
            raise AuthError("an objection is made with the account's own credential")
        result = await run_in_threadpool(self.changed, who, ConsentState.REFUSED, "objection")
        return JSONResponse(result)

    async def get_account(self, request: Request) -> Response:
        account, _ = await self.owner_or_operator(request)
        status = await run_in_threadpool(self.store.status, account)
        if status is None:  # only the operator's token gets here for an unknown account
            raise NotFoundError("no such account")
        return JSONResponse(status_json(status, self.policy))

    async def put_consent(self, request: Request) -> Response:
        account, who = await self.owner_or_operator(request)
        body = await _json(request)
        state = body.get("state")
        if state not in (ConsentState.GRANTED.value, ConsentState.REFUSED.value):
            raise DecodeError('state: expected "granted" or "refused"')
        source = "operator" if who == _OPERATOR else "user"
        result = await run_in_threadpool(self.changed, account, ConsentState(state), source)
        return JSONResponse(result)

    async def history(self, request: Request) -> Response:
        account, _ = await self.owner_or_operator(request)
        events = await run_in_threadpool(self.store.history, account)
        return JSONResponse({"account": account, "events": [e.to_json() for e in events]})

    async def register(self, request: Request) -> Response:
        await self.operator(request)
        body = await _json(request)
        account = check_account(body.get("account"))
        region = check_region(body.get("region"))
        secret = new_secret()
        event = await run_in_threadpool(
            self.store.register, account, region, hash_secret(secret), self.now()
        )
        body = {"account": account, "region": region, "secret": secret, "event": event.to_json()}
        return JSONResponse(body, status_code=201)

    async def lookup(self, request: Request) -> Response:
        await self.operator(request)
        body = await _json(request, _MAX_LOOKUP_BODY)
        accounts = body.get("accounts")
        if not isinstance(accounts, list) or len(accounts) > MAX_LOOKUP:
            raise DecodeError(f"accounts: expected a list of at most {MAX_LOOKUP}")
        wanted = [check_account(a) for a in accounts]
        found = await run_in_threadpool(self.store.statuses, wanted)
        statuses = {a: status_json(s, self.policy) for a, s in found.items()}
        return JSONResponse({"statuses": statuses})

    async def key(self, _request: Request) -> Response:
        key = {"alg": "Ed25519", "public_key": b64url(self.public_key)}
        return JSONResponse({**key, "key_id": key_id(self.public_key)})

    async def describe_policy(self, _request: Request) -> Response:
        table = {r: ASK_REQUIRED.get(r, "") for r in sorted(self.policy.ask_required)}
        default = self.policy.default_elsewhere.value
        return JSONResponse({"ask_required": table, "default_elsewhere": default})

    async def healthz(self, _request: Request) -> Response:
        return JSONResponse({"ok": True})


def create_app(
    store: ConsentStore,
    signing_key: Ed25519PrivateKey,
    *,
    admin_token: str,
    policy: RegionPolicy | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Starlette:
    """The consent service over ``store``; receipts signed with ``signing_key``."""
    svc = _Service(store, signing_key, admin_token, policy or RegionPolicy(), now)
    routes = [
        Route("/objection", error_boundary(svc.objection), methods=["POST"]),
        Route("/accounts", error_boundary(svc.register), methods=["POST"]),
        Route("/accounts/{account}", error_boundary(svc.get_account), methods=["GET"]),
        Route("/accounts/{account}/consent", error_boundary(svc.put_consent), methods=["PUT"]),
        Route("/accounts/{account}/history", error_boundary(svc.history), methods=["GET"]),
        Route("/lookup", error_boundary(svc.lookup), methods=["POST"]),
        Route("/key", error_boundary(svc.key), methods=["GET"]),
        Route("/policy", error_boundary(svc.describe_policy), methods=["GET"]),
        Route("/healthz", error_boundary(svc.healthz), methods=["GET"]),
    ]
    return Starlette(routes=routes)
