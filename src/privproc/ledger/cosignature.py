"""C2SP tlog-cosignature: timestamped Ed25519 witness cosignatures (type 0x04).

https://c2sp.org/tlog-cosignature — the key id is
``SHA-256(<name> || "\\n" || 0x04 || public key)[:4]``; the signature is a
``timestamped_signature`` (``u64 timestamp || ed25519 signature[64]``, big
endian) over the message::

    cosignature/v1
    time <timestamp>
    <the whole checkpoint note text>

A cosignature says: as of ``timestamp``, this is the largest consistent tree the
cosigner has seen for this origin.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from privproc.errors import LedgerError, MisuseError, UnsupportedError
from privproc.ledger.note import (
    ALG_COSIGNATURE_V1,
    ALG_ED25519,
    Ed25519Verifier,
    NamedKey,
    NoteSignature,
    NoteVerifier,
    parse_vkey,
    public_key_bytes,
)

__all__ = [
    "CosignatureVerifier",
    "Cosigner",
    "cosigned_message",
    "timestamp_of",
    "verifier_from_vkey",
]

_MAX_TIMESTAMP = (1 << 63) - 1


def cosigned_message(text: str, timestamp: int) -> bytes:
    """The signed message of tlog-cosignature §Ed25519 signed message."""
    if not 0 <= timestamp <= _MAX_TIMESTAMP:
        raise MisuseError("cosignature timestamp out of range")
    return f"cosignature/v1\ntime {timestamp}\n".encode() + text.encode()


def timestamp_of(signature: bytes) -> int:
    """The timestamp of a ``timestamped_signature`` (its first 8 bytes, big endian)."""
    if len(signature) != 72:
        raise LedgerError(
            "cosignature.length",
            "timestamped signature is not 72 bytes",
            expected=72,
            found=len(signature),
        )
    return int.from_bytes(signature[:8], "big")


class Cosigner(NamedKey):
    """A witness's Ed25519 cosignature/v1 (type 0x04) signer."""

    __slots__ = ("_key",)
    ALG = ALG_COSIGNATURE_V1

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        super().__init__(name, public_key_bytes(private_key))
        self._key = private_key

    def cosign(self, text: str, timestamp: int) -> NoteSignature:
        """Cosign checkpoint note text at ``timestamp`` (POSIX seconds)."""
        sig = self._key.sign(cosigned_message(text, timestamp))
        return NoteSignature(self._name, self._key_id, timestamp.to_bytes(8, "big") + sig)

    def verifier(self) -> CosignatureVerifier:
        """The matching verifier."""
        return CosignatureVerifier(self._name, self._key.public_key())


class CosignatureVerifier(NamedKey):
    """Verifies one witness's cosignature/v1 signatures; ``verify`` returns the timestamp."""

    __slots__ = ("_key",)
    ALG = ALG_COSIGNATURE_V1

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        super().__init__(name, public_key_bytes(public_key))
        self._key = public_key

    def verify(self, text: str, signature: bytes) -> int | None:
        """Check a cosignature over note text; return its timestamp or raise LedgerError."""
        ts = timestamp_of(signature)
        if ts > _MAX_TIMESTAMP:
            raise LedgerError("cosignature.timestamp", "timestamp above 2^63-1")
        try:
            self._key.verify(signature[8:], cosigned_message(text, ts))
        except InvalidSignature:
            raise LedgerError(
                "cosignature.signature", f"cosignature by {self._name} does not verify"
            ) from None
        return ts


def verifier_from_vkey(vkey: str) -> NoteVerifier:
    """A verifier for a vkey of type 0x01 (Ed25519) or 0x04 (cosignature/v1)."""
    name, alg, public = parse_vkey(vkey)
    if len(public) != 32 or alg not in (ALG_ED25519, ALG_COSIGNATURE_V1):
        raise UnsupportedError(f"vkey type 0x{alg:02x} with a {len(public)}-byte key")
    key = Ed25519PublicKey.from_public_bytes(public)
    if alg == ALG_ED25519:
        return Ed25519Verifier(name, key)
    return CosignatureVerifier(name, key)
