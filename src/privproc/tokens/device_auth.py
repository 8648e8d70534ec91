"""Device-key authentication of token requests to the issuer (privproc's own scheme).

RFC 9578 leaves how the issuer (or its attester) authenticates a client to the
deployment. privproc's embedded default: the signed-in device registers an Ed25519
public key for its account once; afterwards it signs every token request::

    Authorization: PrivprocDevice account="<account>", ts="<unix seconds>", sig="<b64url>"

``sig`` is Ed25519 over ``"privproc-issuer/v1\\n" || account || "\\n" || ts || "\\n" ||
SHA-256(body)``. The issuer checks the signature with the account's registered key
and that ``ts`` is within ``max_skew`` of its clock. A credential verifies for as long
as ``ts`` is within the skew, so the issuer also refuses one it has already served:
:func:`replay_key` is what its shared replay cache records (until ``ts + max_skew``).
This module is pure (both sides use it); the issuer keeps the registry
(:mod:`privproc.issuer.auth`).

What this does *not* hide: the issuer learns the account of each request (it must,
for the quota). Unlinkability comes from the blind signature, not from this header.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from privproc.errors import AuthError, DecodeError
from privproc.tokens.http_auth import parse_auth_header
from privproc.tokens.protocol import b64url_decode, b64url_encode

__all__ = ["SCHEME", "DeviceCredentials", "parse", "replay_key", "sign", "verify"]

#: The authorization scheme name.
SCHEME = "PrivprocDevice"
_LABEL = b"privproc-issuer/v1\n"
_MAX_ACCOUNT = 256
_REPLAY_LABEL = b"privproc-issuer-replay/v1\n"


def _message(account: str, ts: int, body: bytes) -> bytes:
    return (
        _LABEL + account.encode() + b"\n" + str(ts).encode() + b"\n" + hashlib.sha256(body).digest()
    )


def _check_account(account: str) -> None:
    if not account or len(account) > _MAX_ACCOUNT or not account.isprintable() or '"' in account:
        raise AuthError("account must be 1..256 printable characters without quotes")


def sign(account: str, key: Ed25519PrivateKey, body: bytes, *, now: float) -> str:
    """The ``Authorization`` value for a request with ``body`` sent at ``now``."""
    _check_account(account)
    ts = int(now)
    sig = key.sign(_message(account, ts, body))
    return f'{SCHEME} account="{account}", ts="{ts}", sig="{b64url_encode(sig)}"'


@dataclass(frozen=True, slots=True)
class DeviceCredentials:
    """A parsed ``PrivprocDevice`` credential (not yet verified)."""

    account: str
    ts: int
    signature: bytes = field(repr=False)


def parse(authorization: str | None) -> DeviceCredentials:
    """Parse the header; AuthError when it is missing or is not a PrivprocDevice credential."""
    if not authorization:
        raise AuthError("token request needs an Authorization: PrivprocDevice credential")
    try:
        parsed = parse_auth_header(authorization)
    except DecodeError:
        raise AuthError("Authorization header does not parse") from None
    if len(parsed) != 1 or parsed[0][0].lower() != SCHEME.lower():
        raise AuthError("Authorization is not one PrivprocDevice credential")
    params = parsed[0][1]
    account, ts, sig = params.get("account"), params.get("ts"), params.get("sig")
    if account is None or ts is None or sig is None:
        raise AuthError("PrivprocDevice credential needs account, ts and sig")
    _check_account(account)
    if not ts.isdigit() or len(ts) > 12:
        raise AuthError("PrivprocDevice ts is not a Unix time")
    try:
        signature = b64url_decode(sig, "sig")
    except DecodeError:
        raise AuthError("PrivprocDevice sig is not base64url") from None
    return DeviceCredentials(account, int(ts), signature)


def verify(
    creds: DeviceCredentials,
    public_keys: list[bytes],
    body: bytes,
    *,
    now: float,
    max_skew: float = 300.0,
) -> str:
    """Return the account when the signature verifies under one of its registered keys."""
    if abs(now - creds.ts) > max_skew:
        raise AuthError("PrivprocDevice ts is outside the allowed clock skew")
    message = _message(creds.account, creds.ts, body)
    for raw in public_keys:
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(creds.signature, message)
        except (InvalidSignature, ValueError):
            continue
        return creds.account
    raise AuthError("device signature does not verify for this account")


def replay_key(creds: DeviceCredentials, body: bytes) -> bytes:
    """The replay-cache key of a verified credential: SHA-256 over the signed message.

    Keyed on what was signed (account, ts, body hash) rather than on the signature
    bytes alone, so that a second valid signature over the same request (another
    registered key, a re-encoded signature) is a replay too.
    """
    return hashlib.sha256(_REPLAY_LABEL + _message(creds.account, creds.ts, body)).digest()
