"""A client of the consent service (httpx): for the CLI, the export and tests.

Transport failures become StoreError (the consent source is unreachable: callers
fail closed); problem responses become RemoteError with the status and problem type.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from privproc.consent.events import (
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    check_account,
    check_region,
    parse_time,
)
from privproc.consent.receipt import Receipt, unb64url
from privproc.consent_service.app import MAX_LOOKUP
from privproc.errors import DecodeError, RemoteError, StoreError

__all__ = ["ConsentClient", "Registration"]


@dataclass(frozen=True, slots=True)
class Registration:
    """What registering an account returns: its first event and its secret (shown once)."""

    event: ConsentEvent
    secret: str = field(repr=False)


class ConsentClient:
    """Talks to one consent service with one bearer credential (account or operator)."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        http: httpx.Client | None = None,
    ) -> None:
        """``http``: an httpx client to send through instead (tests pass an in-process one)."""
        self._headers = {"authorization": f"Bearer {token}"} if token else {}
        self._base = url.rstrip("/")
        self._http = http or httpx.Client(timeout=timeout)

    def __enter__(self) -> ConsentClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def _call(self, method: str, path: str, body: object | None = None) -> dict[str, Any]:
        try:
            response = self._http.request(
                method, self._base + path, json=body, headers=self._headers
            )
        except httpx.HTTPError as exc:
            raise StoreError(f"consent service unreachable ({type(exc).__name__})") from None
        if response.status_code >= 400:
            problem, detail = "", ""
            with contextlib.suppress(ValueError, AttributeError):
                problem_body: Any = response.json()
                problem = str(problem_body.get("type", ""))
                detail = str(problem_body.get("detail", ""))
            message = f"consent service refused: {detail}" if detail else "consent service refused"
            raise RemoteError(message[:300], status=response.status_code, problem=problem)
        try:
            answer = response.json()
        except ValueError:
            raise DecodeError("consent service: response is not JSON") from None
        if not isinstance(answer, dict):
            raise DecodeError("consent service: response is not a JSON object")
        return answer

    def public_key(self) -> bytes:
        """The service's raw Ed25519 receipt key (fetch it once, then pin it)."""
        return unb64url(self._call("GET", "/key").get("public_key"), "public_key")

    def register(self, account: str, region: str) -> Registration:
        """Register an account (operator token)."""
        body = self._call("POST", "/accounts", {"account": account, "region": region})
        secret = body.get("secret")
        if not isinstance(secret, str) or not secret:
            raise DecodeError("register: the response holds no secret")
        return Registration(ConsentEvent.from_json(body.get("event")), secret)

    def status(self, account: str) -> dict[str, object]:
        """The account's status as the service reports it."""
        result: dict[str, object] = self._call("GET", f"/accounts/{check_account(account)}")
        return result

    def change(self, account: str, state: ConsentState) -> tuple[ConsentEvent, Receipt]:
        """Grant or refuse (account or operator token)."""
        body = self._call(
            "PUT", f"/accounts/{check_account(account)}/consent", {"state": state.value}
        )
        return ConsentEvent.from_json(body.get("event")), Receipt.from_json(body.get("receipt"))

    def object(self) -> tuple[ConsentEvent, Receipt]:
        """The one-step objection, with the account's own token."""
        body = self._call("POST", "/objection")
        return ConsentEvent.from_json(body.get("event")), Receipt.from_json(body.get("receipt"))

    def history(self, account: str) -> list[ConsentEvent]:
        """Every event of the account (verify with :func:`.events.verify_chain`)."""
        body = self._call("GET", f"/accounts/{check_account(account)}/history")
        events = body.get("events")
        if not isinstance(events, list):
            raise DecodeError("history: expected a list of events")
        return [ConsentEvent.from_json(e) for e in events]

    def lookup(self, accounts: Sequence[str]) -> Mapping[str, ConsentStatus]:
        """Bulk status (operator token); the export's lookup over HTTP."""
        out: dict[str, ConsentStatus] = {}
        for start in range(0, len(accounts), MAX_LOOKUP):
            chunk = list(accounts[start : start + MAX_LOOKUP])
            asked = set(chunk)
            body = self._call("POST", "/lookup", {"accounts": chunk})
            statuses = body.get("statuses")
            if not isinstance(statuses, dict):
                raise DecodeError("lookup: expected statuses")
            for account, raw in statuses.items():
                status = _status(raw)
                if account != status.account or account not in asked:
                    raise DecodeError("lookup: a status for an account not asked for")
                out[account] = status
        return out


def _status(raw: object) -> ConsentStatus:
    if not isinstance(raw, dict):
        raise DecodeError("status: expected an object")
    try:
        seq = raw["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise DecodeError("status: seq must be an integer")
        return ConsentStatus(
            account=check_account(raw["account"]),
            region=check_region(raw["region"]),
            state=ConsentState(raw["state"]),
            seq=seq,
            updated=parse_time(raw["updated"]),
        )
    except (KeyError, ValueError):
        raise DecodeError("status: missing or invalid field") from None
