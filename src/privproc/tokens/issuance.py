"""The type 0x0002 issuance protocol (RFC 9578 §6): client, issuer and token check.

Client: :func:`begin` makes a :class:`~privproc.tokens.protocol.TokenRequest` and
keeps the secret :class:`PendingToken`; :func:`finish` turns the issuer's
:class:`~privproc.tokens.protocol.TokenResponse` into a
:class:`~privproc.tokens.protocol.Token`, verified before it is returned.
Issuer: :func:`evaluate` checks a request against the key it names and signs.
Anyone with the public key: :func:`verify_token` (RFC 9578 §6.4).

No I/O; nonce, salt and the blind can be fixed (RFC 9578 Appendix A.2 vectors).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

from privproc.errors import MisuseError, TokenError, UnknownKeyError
from privproc.tokens import blind_rsa
from privproc.tokens.blind_rsa import PrivateKey, Variant
from privproc.tokens.protocol import (
    TOKEN_TYPE_BLIND_RSA,
    Token,
    TokenChallenge,
    TokenKey,
    TokenRequest,
    TokenResponse,
)

__all__ = ["IssuerKeyPair", "PendingToken", "begin", "evaluate", "finish", "verify_token"]

#: RFC 9578 §6: type 0x0002 uses RSABSSA-SHA384-PSS-Deterministic.
VARIANT = Variant.PSS_DETERMINISTIC


@dataclass(frozen=True, slots=True)
class PendingToken:
    """What the client keeps between request and response (secret: ``inv``)."""

    token_key: TokenKey
    nonce: bytes
    challenge_digest: bytes
    inv: int = field(repr=False)

    def token_input(self) -> bytes:
        """token_type || nonce || challenge_digest || token_key_id (RFC 9578 §6.1)."""
        return (
            TOKEN_TYPE_BLIND_RSA.to_bytes(2, "big")
            + self.nonce
            + self.challenge_digest
            + self.token_key.key_id
        )


def begin(
    token_key: TokenKey,
    challenge: TokenChallenge,
    *,
    nonce: bytes | None = None,
    salt: bytes | None = None,
    r: int | None = None,
) -> tuple[TokenRequest, PendingToken]:
    """Client: build a TokenRequest for ``challenge`` (RFC 9578 §6.1).

    ``nonce``, ``salt`` and ``r`` (the blind) fix the randomness, for vectors only.
    """
    if challenge.token_type != TOKEN_TYPE_BLIND_RSA:
        raise MisuseError("challenge is not for token type 0x0002")
    if nonce is None:
        nonce = secrets.token_bytes(32)
    if len(nonce) != 32:
        raise MisuseError("nonce must be 32 bytes")
    pending = PendingToken(token_key, bytes(nonce), challenge.digest(), 0)
    msg = blind_rsa.prepare(pending.token_input(), VARIANT)
    blinded, inv = blind_rsa.blind(token_key.public_key, msg, VARIANT, salt=salt, r=r)
    request = TokenRequest(token_key.truncated_key_id, blinded)
    return request, PendingToken(token_key, pending.nonce, pending.challenge_digest, inv)


def finish(pending: PendingToken, response: TokenResponse) -> Token:
    """Client: unblind and verify the issuer's answer (RFC 9578 §6.3).

    Raises :class:`~privproc.errors.TokenError` if the result does not verify.
    """
    msg = blind_rsa.prepare(pending.token_input(), VARIANT)
    sig = blind_rsa.finalize(
        pending.token_key.public_key, msg, response.blind_sig, pending.inv, VARIANT
    )
    return Token(pending.nonce, pending.challenge_digest, pending.token_key.key_id, sig)


@dataclass(frozen=True, slots=True)
class IssuerKeyPair:
    """An issuer's signing key and its public token key."""

    private_key: PrivateKey = field(repr=False)
    token_key: TokenKey

    @classmethod
    def from_private_key(cls, sk: PrivateKey) -> IssuerKeyPair:
        """Pair ``sk`` with its RFC 9578 §6.5 token key."""
        return cls(sk, TokenKey.from_public_key(sk.public_key))


def evaluate(keys: Iterable[IssuerKeyPair], request: TokenRequest) -> TokenResponse:
    """Issuer: sign a TokenRequest with the key its truncated key id names (RFC 9578 §6.2).

    Raises :class:`~privproc.errors.UnknownKeyError` if no active key has that
    truncated id (the client should refetch the directory). Keys whose truncated
    ids collide are the caller's error: the issuer must never have two active.
    """
    matches = [k for k in keys if k.token_key.truncated_key_id == request.truncated_token_key_id]
    if not matches:
        raise UnknownKeyError(
            f"no active token key with truncated id {request.truncated_token_key_id:#04x}"
        )
    if len(matches) > 1:
        raise MisuseError("two active token keys share a truncated key id")
    blind_sig = blind_rsa.blind_sign(matches[0].private_key, request.blinded_msg)
    return TokenResponse(blind_sig)


def verify_token(token: Token, token_key: TokenKey) -> Token:
    """Check a token's authenticator with the issuer's public key (RFC 9578 §6.4).

    Returns the verified token; raises :class:`~privproc.errors.TokenError` naming the check.
    """
    if token.token_key_id != token_key.key_id:
        raise TokenError("token.key_id", "token names another issuer key")
    msg = blind_rsa.prepare(token.authenticator_input(), VARIANT)
    try:
        blind_rsa.verify(token_key.public_key, msg, token.authenticator, VARIANT)
    except TokenError:
        raise TokenError("token.authenticator", "token signature does not verify") from None
    return token
