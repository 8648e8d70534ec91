"""The device side: keep a batch of tokens, spend one per request, refill below a threshold.

* :class:`TokenWallet`: tokens on the device, in one SQLite file under a folder the
  caller gives (``$PRIVPROC_HOME/client/`` in the SDK). Taking a token deletes it in
  the same statement, so two processes never spend the same one.
* :class:`TokenClient`: fetch the issuer's
  directory, run RFC 9578 issuance for a batch of tokens through an
  :class:`IssuerTransport` (the HTTP one is :mod:`privproc.client.issuer_http`), check
  every token against the issuer key before keeping it, and hand out one token per
  request, refilling when fewer than ``low_water`` remain.

Tokens are bound to one challenge (the gateway's: token type 0x0002, the issuer
name, an empty redemption context and the gateway as origin), so they can be
fetched ahead of time. A token is useful only while its issuer key is in the
directory; tokens under a retired key are dropped at the next refill.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol

from privproc._sqlite import open_sqlite
from privproc.errors import MisuseError, PrivprocError, StoreError, TokenError
from privproc.tokens import issuance
from privproc.tokens.protocol import (
    IssuerDirectory,
    Token,
    TokenChallenge,
    TokenKey,
    TokenRequest,
    TokenResponse,
)

__all__ = [
    "IssuerTransport",
    "TokenClient",
    "TokenWallet",
]

WALLET_FILE = "tokens.db"


class TokenWallet:
    """Unspent tokens on the device, per challenge, in ``<folder>/tokens.db``."""

    def __init__(self, folder: str | Path) -> None:
        self._lock = threading.Lock()
        path = Path(folder)
        try:
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise StoreError(f"token wallet: cannot open ({type(exc).__name__})") from None
        self._db = open_sqlite(
            path / WALLET_FILE,
            what="token wallet",
            schema=[
                "CREATE TABLE IF NOT EXISTS tokens ("
                " id INTEGER PRIMARY KEY AUTOINCREMENT, challenge BLOB NOT NULL,"
                " token_key_id BLOB NOT NULL, token BLOB NOT NULL)"
            ],
        )

    def _run(self, sql: str, args: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with self._lock:
            try:
                return self._db.execute(sql, args).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"token wallet: {type(exc).__name__}") from None

    def add(self, challenge: TokenChallenge, tokens: list[Token]) -> None:
        """Keep ``tokens`` (already verified) for ``challenge``."""
        c = challenge.encode()
        with self._lock:
            try:
                self._db.executemany(
                    "INSERT INTO tokens(challenge, token_key_id, token) VALUES (?, ?, ?)",
                    [(c, t.token_key_id, t.encode()) for t in tokens],
                )
            except sqlite3.Error as exc:
                raise StoreError(f"token wallet: {type(exc).__name__}") from None

    def count(self, challenge: TokenChallenge) -> int:
        """How many unspent tokens are kept for ``challenge``."""
        rows = self._run("SELECT COUNT(*) FROM tokens WHERE challenge = ?", (challenge.encode(),))
        value = rows[0][0]
        if not isinstance(value, int):
            raise StoreError("token wallet: corrupt count")
        return value

    def take(self, challenge: TokenChallenge) -> Token | None:
        """Remove and return the oldest token for ``challenge``, or None when there is none."""
        rows = self._run(
            "DELETE FROM tokens WHERE id = (SELECT id FROM tokens WHERE challenge = ?"
            " ORDER BY id LIMIT 1) RETURNING token",
            (challenge.encode(),),
        )
        if not rows:
            return None
        raw = rows[0][0]
        if not isinstance(raw, bytes):
            raise StoreError("token wallet: corrupt token row")
        return Token.decode(raw)

    def retain_keys(self, key_ids: set[bytes]) -> int:
        """Drop tokens whose issuer key is no longer listed; returns how many were dropped."""
        rows = self._run("SELECT id, token_key_id FROM tokens")
        stale = [r[0] for r in rows if r[1] not in key_ids]
        for token_id in stale:
            self._run("DELETE FROM tokens WHERE id = ?", (token_id,))
        return len(stale)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class IssuerTransport(Protocol):
    """How the client reaches the issuer (sync)."""

    def directory(self) -> IssuerDirectory:
        """Fetch the issuer directory (RFC 9578 §4)."""
        ...

    def token_request(self, request: TokenRequest) -> TokenResponse:
        """POST one TokenRequest, return the TokenResponse (RFC 9578 §6)."""
        ...


def _pick_key(directory: IssuerDirectory, now: float) -> TokenKey:
    keys = directory.usable_keys(now)
    if not keys:
        raise TokenError("issuer.directory", "the issuer lists no usable type 0x0002 key")
    return keys[0]  # RFC 9578 §4: the first key is preferred


class _Base:
    def __init__(
        self,
        wallet: TokenWallet,
        challenge: TokenChallenge,
        *,
        batch: int = 10,
        low_water: int = 3,
    ) -> None:
        if batch < 1 or not 0 <= low_water <= batch:
            raise MisuseError("need batch >= 1 and 0 <= low_water <= batch")
        self.wallet = wallet
        self.challenge = challenge
        self.batch = batch
        self.low_water = low_water

    def _plan(
        self, directory: IssuerDirectory, now: float, count: int | None
    ) -> tuple[TokenKey, int]:
        """Drop tokens under retired keys; the key to use and how many tokens to fetch."""
        self.wallet.retain_keys({k.key_id for k in directory.usable_keys(now)})
        key = _pick_key(directory, now)
        want = self.batch - self.wallet.count(self.challenge) if count is None else count
        return key, max(want, 0)

    @contextmanager
    def _keeping(self) -> Iterator[list[Token]]:
        """Collect fetched tokens; keep them whatever happens. A refusal after the
        first token ends the batch quietly; one before it is raised."""
        got: list[Token] = []
        try:
            yield got
        except PrivprocError:
            if not got:
                raise
        finally:
            self.wallet.add(self.challenge, got)

    def _needed(self) -> int:
        have = self.wallet.count(self.challenge)
        return self.batch - have if have < self.low_water else 0

    def _take(self) -> Token:
        token = self.wallet.take(self.challenge)
        if token is None:
            raise TokenError("client.wallet", "no token left and the refill got none")
        return token


class TokenClient(_Base):
    """Hands out one token per request; refills from the issuer below ``low_water``."""

    def __init__(
        self,
        wallet: TokenWallet,
        transport: IssuerTransport,
        challenge: TokenChallenge,
        *,
        batch: int = 10,
        low_water: int = 3,
    ) -> None:
        super().__init__(wallet, challenge, batch=batch, low_water=low_water)
        self.transport = transport

    def refill(self, now: float, count: int | None = None) -> int:
        """Fetch ``count`` tokens (default: up to ``batch``); returns how many were kept.

        Stops at the first refusal (for example the daily quota) after keeping what it got,
        and re-raises it only if no token was obtained.
        """
        key, want = self._plan(self.transport.directory(), now, count)
        with self._keeping() as got:
            for _ in range(want):
                request, pending = issuance.begin(key, self.challenge)
                got.append(issuance.finish(pending, self.transport.token_request(request)))
        return len(got)

    def token(self, now: float) -> Token:
        """One token for one request (refilling first when below the threshold)."""
        if self._needed():
            try:
                self.refill(now)
            except PrivprocError:
                if self.wallet.count(self.challenge) == 0:
                    raise
        return self._take()
