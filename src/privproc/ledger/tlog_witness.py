"""C2SP tlog-witness ``add-checkpoint``, sans I/O.

https://c2sp.org/tlog-witness — the request body is ``old <size>\\n``, up to 63
base64 consistency-proof lines, an empty line, then the signed checkpoint. The
witness checks, atomically with its stored state for the origin:

* the origin is a log it knows (else 404: :class:`UnknownLogError`);
* a trusted log signature verifies (else 403: LedgerError);
* ``old <= size`` (else 400: DecodeError);
* ``old`` equals the size it last cosigned, or 0 if none (else 409 with the known
  size: :class:`SizeConflictError`);
* the RFC 6962/9162 consistency proof from its stored root verifies (else 422:
  :class:`BadConsistencyError`); equal sizes need equal roots (else 409, a fork).

Then it stores the checkpoint and returns a cosignature line (tlog-cosignature).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass

from privproc.errors import (
    BadConsistencyError,
    DecodeError,
    ProofError,
    SizeConflictError,
    UnknownLogError,
)
from privproc.ledger.checkpoint import Checkpoint, open_checkpoint
from privproc.ledger.cosignature import Cosigner
from privproc.ledger.merkle import HASH_SIZE, verify_consistency
from privproc.ledger.note import Note, NoteSignature, NoteVerifier, b64decode_strict

__all__ = [
    "MAX_PROOF_LINES",
    "AddCheckpointRequest",
    "UnknownLogError",
    "WitnessedState",
    "add_checkpoint",
    "parse_conflict_body",
    "request_origin",
]

#: "The client MUST NOT send more than 63 consistency proof lines."
MAX_PROOF_LINES = 63
_MAX_BODY = 1 << 16


@dataclass(frozen=True, slots=True)
class AddCheckpointRequest:
    """An ``add-checkpoint`` body: old size, consistency proof, signed checkpoint."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: bytes

    def encode(self) -> bytes:
        """The request body."""
        lines = [f"old {self.old_size}", *(base64.b64encode(p).decode() for p in self.proof)]
        return ("\n".join(lines) + "\n\n").encode() + self.checkpoint

    @classmethod
    def decode(cls, data: bytes) -> AddCheckpointRequest:
        """Parse a body strictly; raise DecodeError."""
        if len(data) > _MAX_BODY:
            raise DecodeError("add-checkpoint body too large")
        head, sep, rest = data.partition(b"\n\n")
        if not sep:
            raise DecodeError("add-checkpoint: no empty line before the checkpoint")
        try:
            lines = head.decode("ascii").split("\n")
        except UnicodeDecodeError:
            raise DecodeError("add-checkpoint: header is not ASCII") from None
        first = lines[0]
        if not first.startswith("old "):
            raise DecodeError("add-checkpoint: missing 'old <size>' line")
        digits = first[4:]
        if not digits.isdigit() or len(digits) > 19 or (digits != "0" and digits.startswith("0")):
            raise DecodeError("add-checkpoint: bad old size")
        if len(lines) - 1 > MAX_PROOF_LINES:
            raise DecodeError("add-checkpoint: more than 63 proof lines")
        proof = tuple(b64decode_strict(line, "proof line") for line in lines[1:])
        if any(len(p) != HASH_SIZE for p in proof):
            raise DecodeError("add-checkpoint: proof line is not a SHA-256 hash")
        return cls(int(digits), proof, rest)


@dataclass(frozen=True, slots=True)
class WitnessedState:
    """The newest checkpoint this witness cosigned for one origin."""

    origin: str
    size: int
    root_hash: bytes


def add_checkpoint(
    request: AddCheckpointRequest,
    logs: Mapping[str, NoteVerifier],
    state: WitnessedState | None,
    cosigner: Cosigner,
    *,
    now: int,
) -> tuple[WitnessedState, NoteSignature]:
    """Decide an ``add-checkpoint`` call: the new state to persist and the cosignature.

    ``logs`` maps origin to the log's verifier; ``state`` is what is stored for the
    request's origin (see :func:`request_origin`). The caller must run the lookup,
    this call and the store update atomically (tlog-witness: the rollback race).
    """
    note = Note.decode(request.checkpoint)
    origin = Checkpoint.parse(note.text).origin
    log = logs.get(origin)
    if log is None:
        raise UnknownLogError(f"unknown log origin {origin!r}")
    opened = open_checkpoint(request.checkpoint, log, origin=origin)
    cp = opened.checkpoint
    if request.old_size > cp.size:
        raise DecodeError(f"old size {request.old_size} above checkpoint size {cp.size}")
    known = 0 if state is None else state.size
    if request.old_size != known:
        raise SizeConflictError(
            "witness.old_size",
            "old size is not the size last cosigned",
            known_size=known,
            found=request.old_size,
        )
    if state is not None and state.size == cp.size:
        if state.root_hash != cp.root_hash:
            raise SizeConflictError(
                "witness.fork",
                f"a different root for size {cp.size}: a fork",
                known_size=known,
                found=cp.root_hash.hex(),
            )
    elif state is not None:
        try:
            verify_consistency(state.size, cp.size, request.proof, state.root_hash, cp.root_hash)
        except ProofError as exc:
            raise BadConsistencyError(
                "witness.consistency", f"checkpoint does not extend the cosigned one ({exc.check})"
            ) from None
    elif request.proof:
        raise BadConsistencyError("witness.consistency", "proof from size 0 must be empty")
    new_state = WitnessedState(origin, cp.size, cp.root_hash)
    return new_state, cosigner.cosign(note.text, now)


def parse_conflict_body(body: bytes) -> int:
    """The known size in a 409 ``text/x.tlog.size`` response."""
    text = body.decode("ascii", "replace")
    if not text.endswith("\n") or not text[:-1].isdigit() or len(text) > 20:
        raise DecodeError("409 body is not a tree size")
    return int(text[:-1])


def request_origin(request: AddCheckpointRequest) -> str:
    """The origin line of the request's checkpoint (to look up the stored state)."""
    return Checkpoint.parse(Note.decode(request.checkpoint).text).origin
