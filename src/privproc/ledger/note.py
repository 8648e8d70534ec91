"""C2SP signed-note: notes, signature lines, key ids and verifier keys.

https://c2sp.org/signed-note — a note is UTF-8 text ending in a newline, a blank
line, then signature lines ``— <key name> base64(key id || signature)``. The key
id is ``SHA-256(key name || 0x0A || signature type || public key)[:4]``; a
verifier key ("vkey") is ``<name>+<hex key id>+<base64(type || public key)>``.
Signature type 0x01 is Ed25519 over the note text (implemented here); type 0x04
(timestamped ``cosignature/v1``) lives in :mod:`privproc.ledger.cosignature`.

Verification follows the spec: signatures from unknown (name, key id) pairs are
ignored; a known key whose signature fails rejects the whole note.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from privproc.errors import DecodeError, LedgerError, MisuseError

__all__ = [
    "ALG_COSIGNATURE_V1",
    "ALG_ED25519",
    "MAX_NOTE_SIZE",
    "MAX_SIGNATURES",
    "Ed25519Signer",
    "Ed25519Verifier",
    "NamedKey",
    "Note",
    "NoteSignature",
    "NoteVerifier",
    "Signer",
    "VerifiedSignature",
    "b64decode_strict",
    "check_key_name",
    "check_unicode",
    "key_id",
    "open_note",
    "parse_signer_key",
    "parse_vkey",
    "public_key_bytes",
]

#: Signature type 0x01: Ed25519 (C2SP signed-note "Signature types").
ALG_ED25519 = 0x01
#: Signature type 0x04: timestamped Ed25519 cosignature/v1 (C2SP tlog-cosignature).
ALG_COSIGNATURE_V1 = 0x04
#: Our limit on a whole note; the spec asks verifiers to bound size.
MAX_NOTE_SIZE = 1 << 16
#: The spec: verifiers "MUST accept at least up to 16 signatures".
MAX_SIGNATURES = 64

_DASH = "\u2014 "


def check_unicode(text: str, what: str) -> str:
    """``text`` unchanged if it is valid Unicode (UTF-8 encodable), else DecodeError.

    A Python str may hold lone surrogates (U+D800..U+DFFF), which no UTF-8 text can;
    every str-taking parser calls this first, so it raises DecodeError and never
    UnicodeEncodeError when it later encodes (key ids, signed text).
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise DecodeError(f"{what}: not valid Unicode (lone surrogate)") from None
    return text


def b64decode_strict(text: str, what: str) -> bytes:
    """Standard base64 (RFC 4648 §4), padded and canonical, or DecodeError."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise DecodeError(f"{what}: not standard base64") from None
    if base64.b64encode(raw).decode() != text:
        raise DecodeError(f"{what}: non-canonical base64")
    return raw


def check_key_name(name: str) -> str:
    """Key names are non-empty, without Unicode spaces or '+' (C2SP signed-note §Format)."""
    check_unicode(name, "key name")
    if not name or "+" in name or any(c.isspace() for c in name):
        raise DecodeError("key name must be non-empty, without spaces or '+'")
    if any(ord(c) < 0x20 for c in name):
        raise DecodeError("key name holds a control character")
    return name


def key_id(name: str, alg: int, public_key: bytes) -> bytes:
    """``SHA-256(key name || 0x0A || type || public key)[:4]`` (C2SP signed-note)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([alg]) + public_key).digest()[:4]


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The 32-byte RFC 8032 encoding of an Ed25519 public key."""
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key id and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if len(self.key_id) != 4:
            raise MisuseError("key id must be 4 bytes")

    def line(self) -> str:
        """``— <name> base64(key id || signature)`` plus the newline."""
        return f"{_DASH}{self.name} {base64.b64encode(self.key_id + self.signature).decode()}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A signed note: its text (ending in a newline) and its signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...] = ()

    def __post_init__(self) -> None:
        _check_text(self.text)

    def encode(self) -> bytes:
        """The note as bytes: text, blank line, signature lines."""
        return (self.text + "\n" + "".join(s.line() for s in self.signatures)).encode()

    def with_signatures(self, *extra: NoteSignature) -> Note:
        """A copy with more signature lines (a line already present is not repeated)."""
        sigs = list(self.signatures)
        for s in extra:
            if s not in sigs:
                sigs.append(s)
        return Note(self.text, tuple(sigs))

    @classmethod
    def decode(cls, data: bytes) -> Note:
        """Parse a signed note; raise DecodeError on any deviation from the format."""
        if len(data) > MAX_NOTE_SIZE:
            raise DecodeError(f"note over {MAX_NOTE_SIZE} bytes")
        try:
            s = data.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("note is not UTF-8") from None
        if any(ord(c) < 0x20 and c != "\n" for c in s):
            raise DecodeError("note holds a control character")
        # The text is separated from the signatures by the last empty line.
        split = s.rfind("\n\n")
        if split < 0:
            raise DecodeError("note has no blank line before its signatures")
        text, sig_block = s[: split + 1], s[split + 2 :]
        if not sig_block.endswith("\n"):
            raise DecodeError("note does not end in a newline")
        lines = sig_block[:-1].split("\n")
        if len(lines) > MAX_SIGNATURES:
            raise DecodeError(f"note has over {MAX_SIGNATURES} signatures")
        sigs = tuple(_parse_signature_line(line) for line in lines)
        return cls(text, sigs)


def _check_text(text: str) -> None:
    check_unicode(text, "note text")
    if not text.endswith("\n"):
        raise DecodeError("note text must end in a newline")
    if any(ord(c) < 0x20 and c != "\n" for c in text):
        raise DecodeError("note text holds a control character")


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(_DASH):
        raise DecodeError("signature line does not start with an em dash and a space")
    parts = line[len(_DASH) :].split(" ")
    if len(parts) != 2:
        raise DecodeError("signature line is not '— <name> <base64>'")
    name, blob = parts
    raw = b64decode_strict(blob, "signature")
    if len(raw) < 5:
        raise DecodeError("signature shorter than a key id")
    return NoteSignature(check_key_name(name), raw[:4], raw[4:])


class Signer(Protocol):
    """Signs note text as one key (name, key id)."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def sign(self, text: str) -> NoteSignature: ...


class NoteVerifier(Protocol):
    """Checks one key's signatures. ``verify`` returns the signature's timestamp
    (cosignatures) or None (plain signatures), or raises LedgerError."""

    @property
    def name(self) -> str: ...

    @property
    def key_id(self) -> bytes: ...

    def verify(self, text: str, signature: bytes) -> int | None: ...

    def vkey(self) -> str: ...


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature line that verified, with the verifier that accepted it."""

    verifier: NoteVerifier
    signature: NoteSignature
    timestamp: int | None


class NamedKey:
    """A named Ed25519 public key of one signature type ``ALG``: its name, key id and
    vkey (C2SP signed-note §Verifier keys). What the signers and verifiers of types
    0x01 (here) and 0x04 (:mod:`privproc.ledger.cosignature`) share."""

    __slots__ = ("_key_id", "_name", "_public")
    ALG: ClassVar[int]

    def __init__(self, name: str, public: bytes) -> None:
        self._name = check_key_name(name)
        self._public = public
        self._key_id = key_id(name, self.ALG, public)

    @property
    def name(self) -> str:
        """The key name."""
        return self._name

    @property
    def key_id(self) -> bytes:
        """The 4-byte key id."""
        return self._key_id

    def vkey(self) -> str:
        """``<name>+<hex id>+<base64(type || public key)>``."""
        blob = base64.b64encode(bytes([self.ALG]) + self._public).decode()
        return f"{self._name}+{self._key_id.hex()}+{blob}"


class Ed25519Signer(NamedKey):
    """A signed-note Ed25519 (type 0x01) signer."""

    __slots__ = ("_key",)
    ALG = ALG_ED25519

    def __init__(self, name: str, private_key: Ed25519PrivateKey) -> None:
        super().__init__(name, public_key_bytes(private_key))
        self._key = private_key

    @property
    def private_key(self) -> Ed25519PrivateKey:
        """The Ed25519 private key (to store it, or to sign other domain-separated data)."""
        return self._key

    def sign(self, text: str) -> NoteSignature:
        """Ed25519 over the note text (C2SP signed-note §Ed25519 signatures)."""
        _check_text(text)
        return NoteSignature(self._name, self._key_id, self._key.sign(text.encode()))

    def verifier(self) -> Ed25519Verifier:
        """The matching verifier."""
        return Ed25519Verifier(self._name, self._key.public_key())

    def signer_key(self) -> str:
        """``PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed)`` (Go sumdb/note format)."""
        from cryptography.hazmat.primitives.serialization import NoEncryption, PrivateFormat

        seed = self._key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        blob = base64.b64encode(bytes([ALG_ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self._name}+{self._key_id.hex()}+{blob}"


class Ed25519Verifier(NamedKey):
    """A signed-note Ed25519 (type 0x01) verifier."""

    __slots__ = ("_key",)
    ALG = ALG_ED25519

    def __init__(self, name: str, public_key: Ed25519PublicKey) -> None:
        super().__init__(name, public_key_bytes(public_key))
        self._key = public_key

    @property
    def public_key(self) -> bytes:
        """The raw 32-byte public key."""
        return self._public

    def verify(self, text: str, signature: bytes) -> int | None:
        """Check an Ed25519 signature over the text; raise LedgerError if it fails."""
        if len(signature) != 64:
            raise LedgerError(
                "note.signature.length",
                "Ed25519 signature is not 64 bytes",
                expected=64,
                found=len(signature),
            )
        try:
            self._key.verify(signature, text.encode())
        except InvalidSignature:
            raise LedgerError(
                "note.signature", f"signature by {self._name} does not verify"
            ) from None
        return None


def _split_key(text: str, parts: int, what: str) -> list[str]:
    # The base64 tail may itself contain '+', so split from the left a fixed number of times.
    fields = text.split("+", parts - 1)
    if len(fields) != parts:
        raise DecodeError(f"{what}: expected {parts} '+'-separated fields")
    return fields


def parse_vkey(text: str) -> tuple[str, int, bytes]:
    """Parse ``<name>+<hex id>+<base64(type || key)>``; return (name, type, public key).

    The key id must be 8 lowercase hex digits and match the recomputed id.
    """
    check_unicode(text, "vkey")
    name, hex_id, blob = _split_key(text.strip(), 3, "vkey")
    check_key_name(name)
    if len(hex_id) != 8 or any(c not in "0123456789abcdef" for c in hex_id):
        raise DecodeError("vkey: key id is not 8 lowercase hex digits")
    raw = b64decode_strict(blob, "vkey key")
    if len(raw) < 2:
        raise DecodeError("vkey: key too short")
    alg, public = raw[0], raw[1:]
    if key_id(name, alg, public).hex() != hex_id:
        raise DecodeError("vkey: key id does not match the key")
    return name, alg, public


def parse_signer_key(text: str) -> Ed25519Signer:
    """Parse ``PRIVATE+KEY+<name>+<hex id>+base64(0x01 || seed)`` (Go sumdb/note)."""
    check_unicode(text, "signer key")
    fields = _split_key(text.strip(), 5, "signer key")
    if fields[0] != "PRIVATE" or fields[1] != "KEY":
        raise DecodeError("signer key: missing PRIVATE+KEY prefix")
    name, hex_id, blob = fields[2], fields[3], fields[4]
    raw = b64decode_strict(blob, "signer key")
    if len(raw) != 33 or raw[0] != ALG_ED25519:
        raise DecodeError("signer key: not an Ed25519 seed")
    signer = Ed25519Signer(name, Ed25519PrivateKey.from_private_bytes(raw[1:]))
    if signer.key_id.hex() != hex_id:
        raise DecodeError("signer key: key id does not match the key")
    return signer


def open_note(note: Note, verifiers: Sequence[NoteVerifier]) -> list[VerifiedSignature]:
    """Verify a note's signatures against known keys (C2SP signed-note §Signatures).

    Lines from unknown (name, key id) pairs are ignored. A known key's signature
    that fails rejects the note (LedgerError ``note.signature``). Returns the
    verified signatures; raises LedgerError ``note.unverified`` if none verified.
    """
    known = {(v.name, v.key_id): v for v in verifiers}
    verified: list[VerifiedSignature] = []
    seen: set[tuple[str, bytes]] = set()
    for sig in note.signatures:
        v = known.get((sig.name, sig.key_id))
        if v is None:
            continue
        if (sig.name, sig.key_id) in seen:
            raise LedgerError("note.signature.duplicate", f"{sig.name} signed the note twice")
        seen.add((sig.name, sig.key_id))
        ts = v.verify(note.text, sig.signature)
        verified.append(VerifiedSignature(v, sig, ts))
    if not verified:
        raise LedgerError(
            "note.unverified",
            "no signature from a known key",
            expected=[v.name for v in verifiers],
            found=[s.name for s in note.signatures],
        )
    return verified
