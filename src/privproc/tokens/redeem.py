"""Redeeming a token: verify it, then spend it exactly once (RFC 9577 §2.2, RFC 9578 §6.4).

The gateway builds one :class:`Redeemer` from the issuer's active keys (from the
issuer directory), the challenges it hands out and a :class:`~privproc.tokens.spent.SpentStore`,
then calls :meth:`Redeemer.redeem` (or :meth:`Redeemer.redeem_header` with the
``Authorization`` value) once per request. Checks, in order, each failing closed
with an error that names it:

1. ``token.key_id``: the token names one of the issuer's active keys (TokenError);
2. ``token.challenge``: its challenge digest is one this gateway issues (TokenError);
3. ``token.authenticator``: the RSA-PSS signature verifies (TokenError);
4. spend: the store had not seen it (ReplayError); a store failure refuses it (StoreError).

The spent-store key is SHA-256 over a label, the token key id and the nonce:
nothing the issuer saw at issuance (the blinded message) and nothing that names
an account.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from privproc.errors import MisuseError, ReplayError, TokenError
from privproc.tokens import http_auth, issuance
from privproc.tokens.protocol import TOKEN_TYPE_BLIND_RSA, Token, TokenChallenge, TokenKey
from privproc.tokens.spent import SpentStore

__all__ = ["Redeemed", "Redeemer", "spent_key"]

_LABEL = b"privproc/spent-token/v1"


def spent_key(token: Token) -> bytes:
    """The spent-store key of a token: SHA-256(label || token_key_id || nonce)."""
    return hashlib.sha256(_LABEL + token.token_key_id + token.nonce).digest()


@dataclass(frozen=True, slots=True)
class Redeemed:
    """A token that verified and is now spent."""

    token_key_id: bytes
    challenge: TokenChallenge


@dataclass(frozen=True, slots=True)
class Redeemer:
    """Verifies tokens against active issuer keys and accepted challenges, then spends them.

    ``retention`` (seconds) is how long a spent token is remembered; it must be at
    least as long as a token key stays active (its lifetime plus the rotation
    overlap), after which the key, and every token under it, is refused anyway.
    """

    keys: tuple[TokenKey, ...]
    challenges: tuple[TokenChallenge, ...]
    store: SpentStore
    retention: float = 8 * 24 * 3600.0
    _by_id: dict[bytes, TokenKey] = field(init=False, repr=False, compare=False)
    _by_digest: dict[bytes, TokenChallenge] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise MisuseError("a redeemer needs at least one active issuer key")
        if not self.challenges:
            raise MisuseError("a redeemer needs at least one accepted challenge")
        if any(c.token_type != TOKEN_TYPE_BLIND_RSA for c in self.challenges):
            raise MisuseError("only token type 0x0002 challenges can be redeemed")
        if self.retention <= 0:
            raise MisuseError("retention must be positive")
        object.__setattr__(self, "_by_id", {k.key_id: k for k in self.keys})
        object.__setattr__(self, "_by_digest", {c.digest(): c for c in self.challenges})

    def with_keys(self, keys: Iterable[TokenKey]) -> Redeemer:
        """The same redeemer with a new set of active keys (after a directory refresh)."""
        return Redeemer(tuple(keys), self.challenges, self.store, self.retention)

    def verify(self, token: Token) -> Redeemed:
        """Checks 1-3 without spending (for tests and dry runs)."""
        key = self._by_id.get(token.token_key_id)
        if key is None:
            raise TokenError("token.key_id", "token names no active issuer key")
        challenge = self._by_digest.get(token.challenge_digest)
        if challenge is None:
            raise TokenError("token.challenge", "token was made for another challenge")
        issuance.verify_token(token, key)
        return Redeemed(token.token_key_id, challenge)

    def redeem(self, token: Token, *, now: float) -> Redeemed:
        """Verify, then spend exactly once. ReplayError on a second spend."""
        redeemed = self.verify(token)
        if not self.store.spend(spent_key(token), expires_at=now + self.retention, now=now):
            raise ReplayError("token already spent")
        return redeemed

    def redeem_header(self, authorization: str, *, now: float) -> Redeemed:
        """Redeem the token of an ``Authorization: PrivateToken token=...`` value."""
        return self.redeem(http_auth.parse_authorization(authorization), now=now)
