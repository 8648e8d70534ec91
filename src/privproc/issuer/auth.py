"""Account authentication for issuance: the pluggable interface and the embedded default.

:class:`Authenticator` turns a request's ``Authorization`` value and body into an
account id, or raises :class:`~privproc.errors.AuthError` (401). The default,
:class:`DeviceKeyAuthenticator`, checks a ``PrivprocDevice`` signature
(:mod:`privproc.tokens.device_auth`) against the Ed25519 keys registered for the
account in a :class:`DeviceRegistry` (SQLite). :class:`OpenAuthenticator` accepts
everyone as one shared account, for interop tests (``privproc issuer --open``).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Protocol

from privproc._sqlite import open_sqlite
from privproc.errors import AuthError, MisuseError, StoreError
from privproc.issuer.quota import QuotaStore
from privproc.tokens import device_auth

__all__ = [
    "OPEN_ACCOUNT",
    "Authenticator",
    "DeviceKeyAuthenticator",
    "DeviceRegistry",
    "OpenAuthenticator",
]

#: The account every request counts against when the issuer runs with ``--open``.
OPEN_ACCOUNT = "open"


class Authenticator(Protocol):
    """Who is asking for a token."""

    def authenticate(self, authorization: str | None, body: bytes, *, now: float) -> str:
        """The account id, or AuthError."""
        ...


class DeviceRegistry:
    """Ed25519 device keys per account, in SQLite."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._db = open_sqlite(
            path,
            what="device registry",
            synchronous="FULL",
            schema=[
                "CREATE TABLE IF NOT EXISTS devices ("
                " account TEXT NOT NULL, public_key BLOB NOT NULL,"
                " PRIMARY KEY (account, public_key)) WITHOUT ROWID"
            ],
        )

    def keys(self, account: str) -> list[bytes]:
        """The account's registered public keys."""
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT public_key FROM devices WHERE account = ?", (account,)
                ).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"device registry: {type(exc).__name__}") from None
        return [bytes(r[0]) for r in rows]

    def register(self, account: str, public_key: bytes, *, first_only: bool) -> None:
        """Add a device key. With ``first_only``, refuse if the account already has one."""
        if len(public_key) != 32:
            raise MisuseError("an Ed25519 public key is 32 bytes")
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    existing = self._db.execute(
                        "SELECT public_key FROM devices WHERE account = ?", (account,)
                    ).fetchall()
                    known = {bytes(r[0]) for r in existing}
                    if first_only and known and public_key not in known:
                        raise AuthError("account already has a registered device")
                    self._db.execute(
                        "INSERT OR IGNORE INTO devices(account, public_key) VALUES (?, ?)",
                        (account, public_key),
                    )
                finally:
                    self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"device registry: {type(exc).__name__}") from None

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class DeviceKeyAuthenticator:
    """The embedded default: a PrivprocDevice signature by a key registered for the account."""

    def __init__(
        self,
        registry: DeviceRegistry,
        *,
        replay: QuotaStore | None,
        max_skew: float = 300.0,
    ) -> None:
        self._registry = registry
        self._replay = replay
        self._max_skew = max_skew

    def authenticate(self, authorization: str | None, body: bytes, *, now: float) -> str:
        """Parse, look up the account's keys, verify, then refuse a replay. An account with
        no device fails exactly like a wrong signature, so the answer does not tell which
        accounts exist. ``replay`` (the shared quota store) records each verified request
        until its ``ts`` leaves the skew window; ``None`` turns the check off (tests only)."""
        creds = device_auth.parse(authorization)
        keys = self._registry.keys(creds.account)
        account = device_auth.verify(creds, keys, body, now=now, max_skew=self._max_skew)
        if self._replay is not None:
            key = device_auth.replay_key(creds, body)
            self._replay.first_use(key, creds.ts + self._max_skew + 1, now=now)
        return account


class OpenAuthenticator:
    """Accepts every request as :data:`OPEN_ACCOUNT` (interop tests; never in production)."""

    def authenticate(self, authorization: str | None, body: bytes, *, now: float) -> str:
        """Always the shared open account."""
        del authorization, body, now
        return OPEN_ACCOUNT
