"""C2SP tlog-checkpoint: the note body of a transparency log's tree head.

https://c2sp.org/tlog-checkpoint — at least three non-empty lines: the origin,
the tree size (decimal, no leading zeroes), the base64 root hash, then optional
non-empty extension lines. The log signs it as a signed note (Ed25519, key name
SHOULD equal the origin); witnesses add cosignatures (tlog-cosignature).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass

from privproc.errors import DecodeError, LedgerError, MisuseError
from privproc.ledger.merkle import HASH_SIZE
from privproc.ledger.note import (
    Note,
    NoteVerifier,
    Signer,
    VerifiedSignature,
    b64decode_strict,
    check_unicode,
    open_note,
)

__all__ = ["Checkpoint", "OpenedCheckpoint", "open_checkpoint", "sign_checkpoint"]

_MAX_SIZE = (1 << 63) - 1


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A tree head: origin, size, root hash and opaque extension lines."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.origin or "\n" in self.origin:
            raise MisuseError("checkpoint origin must be one non-empty line")
        if not 0 <= self.size <= _MAX_SIZE:
            raise MisuseError("checkpoint size out of range")
        if len(self.root_hash) != HASH_SIZE:
            raise MisuseError("checkpoint root hash must be 32 bytes")
        if any(not e or "\n" in e for e in self.extensions):
            raise MisuseError("extension lines must be non-empty single lines")

    def text(self) -> str:
        """The note text (tlog-checkpoint §Note text), ending in a newline."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root_hash).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        """Parse checkpoint note text strictly; raise DecodeError."""
        check_unicode(text, "checkpoint")
        if not text.endswith("\n"):
            raise DecodeError("checkpoint text must end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3 or any(not line for line in lines):
            raise DecodeError("checkpoint needs at least three non-empty lines")
        origin, size_text, root_text = lines[0], lines[1], lines[2]
        if not size_text.isascii() or not size_text.isdigit() or len(size_text) > 19:
            raise DecodeError("checkpoint size is not a decimal number")
        if size_text != "0" and size_text.startswith("0"):
            raise DecodeError("checkpoint size has leading zeroes")
        size = int(size_text)
        if size > _MAX_SIZE:
            raise DecodeError("checkpoint size too large")
        root = b64decode_strict(root_text, "checkpoint root hash")
        if len(root) != HASH_SIZE:
            raise DecodeError("checkpoint root hash is not 32 bytes")
        return cls(origin, size, root, tuple(lines[3:]))


@dataclass(frozen=True, slots=True)
class OpenedCheckpoint:
    """A checkpoint whose log signature verified, with its note and every verified signature."""

    checkpoint: Checkpoint
    note: Note
    log_signature: VerifiedSignature
    cosignatures: tuple[VerifiedSignature, ...]


def sign_checkpoint(checkpoint: Checkpoint, signer: Signer) -> Note:
    """The checkpoint as a note signed by the log."""
    text = checkpoint.text()
    return Note(text, (signer.sign(text),))


def open_checkpoint(
    data: bytes,
    log_verifier: NoteVerifier,
    witnesses: Sequence[NoteVerifier] = (),
    *,
    origin: str | None = None,
) -> OpenedCheckpoint:
    """Parse a signed checkpoint and verify the log's signature and any known cosignatures.

    The origin must equal ``origin`` (default: the log key's name). Cosignatures
    from unknown keys are ignored; a known key whose signature fails rejects the
    note (C2SP signed-note). Raises DecodeError or LedgerError naming the check.
    """
    note = Note.decode(data)
    checkpoint = Checkpoint.parse(note.text)
    want = log_verifier.name if origin is None else origin
    if checkpoint.origin != want:
        raise LedgerError(
            "checkpoint.origin",
            "checkpoint from another log",
            expected=want,
            found=checkpoint.origin,
        )
    try:
        verified = open_note(note, [log_verifier, *witnesses])
    except LedgerError as exc:
        if exc.check != "note.unverified":
            raise
        raise LedgerError(
            "checkpoint.log_signature",
            "checkpoint not signed by the log's key (unknown key)",
            expected=log_verifier.vkey(),
            found=[f"{s.name}+{s.key_id.hex()}" for s in note.signatures],
        ) from None
    log_sigs = [v for v in verified if v.verifier is log_verifier]
    if not log_sigs:
        raise LedgerError(
            "checkpoint.log_signature",
            "checkpoint not signed by the log key",
            expected=log_verifier.vkey(),
        )
    cosigs = tuple(v for v in verified if v.verifier is not log_verifier)
    return OpenedCheckpoint(checkpoint, note, log_sigs[0], cosigs)
