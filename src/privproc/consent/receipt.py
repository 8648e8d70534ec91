"""Signed receipts for consent changes (Ed25519, RFC 8032 via ``cryptography``).

When an account's consent changes (an objection above all), the service returns a
receipt: the event's account, sequence number, state, time and hash, signed with
the service's Ed25519 key over

    "privproc/consent/receipt/v1" || 0x00 || canonical JSON of those fields

(sorted keys, no whitespace, ASCII). Anyone with the service's public key can check
it offline with :func:`verify_receipt`, and an auditor can check that the event
with that hash is still in the account's chain (:func:`.events.verify_chain`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from privproc.canonical import canonical_json
from privproc.consent.events import (
    ConsentEvent,
    ConsentState,
    check_account,
    format_time,
    parse_time,
)
from privproc.errors import DecodeError, MisuseError, VerificationError

__all__ = ["Receipt", "b64url", "issue_receipt", "key_id", "unb64url", "verify_receipt"]

_DOMAIN = b"privproc/consent/receipt/v1\x00"
_HEX = re.compile(r"[0-9a-f]+")


def key_id(public_key: bytes) -> str:
    """A short name for a raw Ed25519 public key: hex of the first 8 bytes of its SHA-256."""
    return hashlib.sha256(public_key).hexdigest()[:16]


def b64url(data: bytes) -> str:
    """base64url without padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: object, what: str) -> bytes:
    """Decode base64url with or without padding; DecodeError naming ``what`` if it is not."""
    if not isinstance(text, str) or len(text) > 200:
        raise DecodeError(f"{what}: expected base64url")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise DecodeError(f"{what}: not base64url") from None


@dataclass(frozen=True, slots=True)
class Receipt:
    """A signed acknowledgement of one consent event."""

    account: str
    seq: int
    state: ConsentState
    time: str
    event_hash: str
    key_id: str
    signature: bytes

    def __post_init__(self) -> None:
        check_account(self.account)
        if isinstance(self.seq, bool) or not isinstance(self.seq, int) or self.seq < 0:
            raise MisuseError("receipt seq must be an integer >= 0")
        if not isinstance(self.state, ConsentState):
            raise MisuseError("receipt state must be a ConsentState")
        try:
            parse_time(self.time)
        except DecodeError:
            raise MisuseError("receipt time must be an RFC 3339 time") from None
        if not _HEX.fullmatch(self.event_hash) or len(self.event_hash) != 64:
            raise MisuseError("receipt event_hash must be 32-byte lowercase hex")
        if not _HEX.fullmatch(self.key_id) or len(self.key_id) != 16:
            raise MisuseError("receipt key_id must be 8-byte lowercase hex")
        if len(self.signature) != 64:
            raise MisuseError("receipt signature must be 64 bytes (Ed25519, RFC 8032 §5.1.6)")

    def message(self) -> bytes:
        """The signed bytes."""
        return _message(
            self.account,
            self.seq,
            state=self.state,
            time=self.time,
            event_hash=self.event_hash,
            key=self.key_id,
        )

    def to_json(self) -> dict[str, object]:
        """The receipt as a JSON object (signature in base64url)."""
        return {
            "account": self.account,
            "seq": self.seq,
            "state": self.state.value,
            "time": self.time,
            "event_hash": self.event_hash,
            "key_id": self.key_id,
            "signature": b64url(self.signature),
        }

    @classmethod
    def from_json(cls, obj: object) -> Receipt:
        """Read a receipt from a JSON object; raise DecodeError if it is not one."""
        if not isinstance(obj, dict):
            raise DecodeError("receipt: expected an object")
        try:
            seq = obj["seq"]
            if not isinstance(seq, int) or isinstance(seq, bool):
                raise DecodeError("receipt: seq must be an integer")
            time = obj["time"]
            parse_time(time)
            return cls(
                account=check_account(obj["account"]),
                seq=seq,
                state=ConsentState(obj["state"]),
                time=str(time),
                event_hash=str(obj["event_hash"]),
                key_id=str(obj["key_id"]),
                signature=unb64url(obj["signature"], "receipt signature"),
            )
        except (KeyError, ValueError, MisuseError):
            raise DecodeError("receipt: missing or invalid field") from None


def _raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def _message(
    account: str, seq: int, *, state: ConsentState, time: str, event_hash: str, key: str
) -> bytes:
    body = {
        "account": account,
        "event_hash": event_hash,
        "key_id": key,
        "seq": seq,
        "state": state.value,
        "time": time,
    }
    return _DOMAIN + canonical_json(body)


def issue_receipt(event: ConsentEvent, signing_key: Ed25519PrivateKey) -> Receipt:
    """Sign a receipt for ``event`` with the service's key."""
    time = format_time(event.time)
    key = key_id(_raw_public(signing_key.public_key()))
    message = _message(
        event.account, event.seq, state=event.state, time=time, event_hash=event.hash, key=key
    )
    return Receipt(
        event.account, event.seq, event.state, time, event.hash, key, signing_key.sign(message)
    )


def verify_receipt(receipt: Receipt, public_key: bytes) -> Receipt:
    """Return ``receipt`` if the service key ``public_key`` (raw, 32 bytes) signed it.

    Raises VerificationError naming ``consent.receipt.key`` (a receipt of another
    key, or not an Ed25519 key) or ``consent.receipt.signature``.
    """
    if len(public_key) != 32:
        raise VerificationError(
            "consent.receipt.key",
            "not a raw Ed25519 public key",
            expected=32,
            found=len(public_key),
        )
    if receipt.key_id != key_id(public_key):
        raise VerificationError(
            "consent.receipt.key",
            "receipt names another key",
            expected=key_id(public_key),
            found=receipt.key_id,
        )
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(receipt.signature, receipt.message())
    except (InvalidSignature, ValueError):
        raise VerificationError("consent.receipt.signature", "signature does not verify") from None
    return receipt
