"""The one exception tree of privproc.

Every error privproc raises on purpose is a subclass of :class:`PrivprocError`.
Library exceptions (``ValueError`` from ``cryptography``, ``struct.error``,
``sqlite3.Error``, ``httpx.HTTPError``...) are translated at the boundary where
they happen; nothing else escapes a public function.

::

    PrivprocError                      anything privproc raises on purpose
    ├── MisuseError                    the *caller* broke a rule (wrong type, bad
    │                                  argument, sequence overflow); a bug, not an attack
    ├── PeerError                      a *peer* sent something we refuse (status hint 400)
    │   ├── DecodeError                bytes that do not parse: truncated, trailing,
    │   │   │                          over a limit, bad varint (raised only by _wire
    │   │   │                          and the decoders built on it)
    │   │   ├── BadTokenRequestError   a Privacy Pass token request the issuer cannot
    │   │   │                          serve (RFC 9578 §6.2: status 422)
    │   │   ├── TooLargeError          a request body over the endpoint's limit (413)
    │   │   └── TruncatedError         a chunked message ended before its final chunk
    │   │                              (draft-ietf-ohai-chunked-ohttp §7.1)
    │   ├── UnsupportedError           well-formed but names something we do not do:
    │   │   │                          unknown suite, version, token type
    │   │   ├── UnknownKeyError        a key id we do not hold (OHTTP key config,
    │   │   │   │                      issuer key) - the client should refetch keys
    │   │   │   └── UnknownLogError    a checkpoint origin the witness does not know (404)
    │   │   └── MediaTypeError         a Content-Type we do not take (415)
    │   ├── ReplayError                a value seen before (spent token, reused nonce)
    │   │   └── ReplayedRequestError   a signed token request presented again (issuer.replay)
    │   ├── NotFoundError              names a thing we do not hold (status 404)
    │   └── ConflictError              would create a thing that already exists (409)
    ├── CryptoError                    a cryptographic operation failed; says nothing
    │   │                              more, on purpose (like cryptography's InvalidTag)
    │   ├── OpenError                  AEAD open / HPKE open / OHTTP response open failed
    │   └── KeyUnwrapError             a wrapped gateway private key does not open under
    │                                  the key-encryption key (tampered blob)
    ├── VerificationError              a check on *public* data failed; names the check,
    │   │                              what was expected and what was found
    │   ├── AttestationError           evidence, certificate chain, TCB, policy
    │   ├── LedgerError                Merkle proofs, checkpoints, cosignatures, records
    │   │   ├── ProofError             an inclusion or consistency proof does not verify
    │   │   │   └── BadConsistencyError a witness refuses the consistency proof (422)
    │   │   ├── ForkError              two views of the log disagree (fork or rollback)
    │   │   │   └── SizeConflictError  a witness cosigned another size (409, known size)
    │   │   └── StaleError             a checkpoint or proof older than allowed
    │   ├── TokenError                 a Privacy Pass token or response does not verify
    │   ├── KekMismatchError           a wrapped key was made under another key-encryption
    │   │                              key (check ``gateway.kek.id``, fingerprints named)
    │   ├── KeyBindingError            a wrapped key is bound to another key id or config
    │   │                              (check ``gateway.kek.binding``: the AAD differs)
    │   └── PolicyError                a configured rule refuses the request
    │                                  (ai_blocked chat, unknown node, missing consent)
    ├── QuotaError                     a per-account quota is used up (status 429)
    │   └── RateLimitedError           a per-client request rate is exceeded (429)
    ├── AuthError                      the caller is not authenticated for this (401)
    ├── StoreError                     a backing store (SQLite, Redis, PostgreSQL)
    │   │                              failed or is unreachable; callers fail closed (503)
    │   ├── NotReadyError              the service has not loaded its state yet (503)
    │   └── LeaseLostError             a write under a lease this holder no longer holds
    ├── RemoteError                    a remote party answered with an error; carries
    │   │                              its HTTP status and problem type
    │   └── NodeRefusedError           an enclave node refused a forwarded request (502,
    │                                  the node's problem type passed on)
    ├── ChildFailedError               a node's per-request child refused, crashed or ran
    │                                  over its time (the child's code and status)
    └── ConfigError                    local configuration is missing or invalid

Each class carries ``http_status``: the status a service answers with when the
error reaches its boundary. A service maps errors to responses in one place
(``privproc._http.problem_response``) and never puts request content in them.
"""

from __future__ import annotations

__all__ = [
    "AttestationError",
    "AuthError",
    "BadConsistencyError",
    "BadTokenRequestError",
    "ChildFailedError",
    "ConfigError",
    "ConflictError",
    "CryptoError",
    "DecodeError",
    "ForkError",
    "KekMismatchError",
    "KeyBindingError",
    "KeyUnwrapError",
    "LeaseLostError",
    "LedgerError",
    "MediaTypeError",
    "MisuseError",
    "NodeRefusedError",
    "NotFoundError",
    "NotReadyError",
    "OpenError",
    "PeerError",
    "PolicyError",
    "PrivprocError",
    "ProofError",
    "QuotaError",
    "RateLimitedError",
    "RemoteError",
    "ReplayError",
    "ReplayedRequestError",
    "SizeConflictError",
    "StaleError",
    "StoreError",
    "TokenError",
    "TooLargeError",
    "TruncatedError",
    "UnknownKeyError",
    "UnknownLogError",
    "UnsupportedError",
    "VerificationError",
]


class PrivprocError(Exception):
    """Base of every error privproc raises on purpose."""

    http_status: int = 500
    #: A short stable identifier, used as the problem type in HTTP error bodies.
    code: str = "error"


class MisuseError(PrivprocError):
    """The caller broke an API rule (a programming error, not an attack)."""

    code = "misuse"


class PeerError(PrivprocError):
    """A peer sent input that we refuse."""

    http_status = 400
    code = "bad-request"


class DecodeError(PeerError):
    """Bytes that do not parse as the expected structure."""

    code = "decode-error"


class BadTokenRequestError(DecodeError):
    """A token request the issuer cannot serve: malformed, unsupported type or unknown
    key (RFC 9578 §6.2: "the Issuer MUST return an HTTP 422 (Unprocessable Content)")."""

    http_status = 422
    code = "malformed-token-request"


class TooLargeError(DecodeError):
    """A request body over the endpoint's limit (RFC 9110 §15.5.14: 413 Content Too Large)."""

    http_status = 413
    code = "too-large"


class TruncatedError(DecodeError):
    """A chunked message (draft-ietf-ohai-chunked-ohttp §4, §5) ended before its final chunk:
    the stream stopped without a zero length prefix and a chunk that opens with the AAD
    "final". §7.1: a receiver that needs the whole message must refuse it."""

    code = "truncated"


class UnsupportedError(PeerError):
    """Well-formed input naming an algorithm, version or type we do not support."""

    http_status = 422
    code = "unsupported"


class UnknownKeyError(UnsupportedError):
    """A key identifier we do not hold; the peer should refetch our keys."""

    http_status = 422
    code = "unknown-key"


class UnknownLogError(UnknownKeyError):
    """A checkpoint's origin is not a log this witness knows (C2SP tlog-witness: 404)."""

    http_status = 404
    code = "unknown-log"


class MediaTypeError(UnsupportedError):
    """A request body in a media type the endpoint does not take (RFC 9110 §15.5.16: 415)."""

    http_status = 415
    code = "unsupported-media-type"


class ReplayError(PeerError):
    """A value that may be used once was presented again."""

    http_status = 403
    code = "replay"


class ReplayedRequestError(ReplayError):
    """A signed request (a ``PrivprocDevice`` token request) the service has already
    served, presented again within its validity window. ``check`` is ``issuer.replay``."""

    code = "replayed-request"
    check = "issuer.replay"

    def __init__(self, message: str = "this signed request was already presented") -> None:
        super().__init__(f"{self.check}: {message}")


class NotFoundError(PeerError):
    """The request names something (an account, an entry) that we do not hold."""

    http_status = 404
    code = "not-found"


class ConflictError(PeerError):
    """The request would create something that already exists."""

    http_status = 409
    code = "conflict"


class CryptoError(PrivprocError):
    """A cryptographic operation failed. Deliberately carries no detail."""

    http_status = 400
    code = "crypto-error"

    def __init__(self, message: str = "cryptographic operation failed") -> None:
        super().__init__(message)


class OpenError(CryptoError):
    """Decryption or authentication of a ciphertext failed."""

    code = "open-failed"

    def __init__(self, message: str = "decryption failed") -> None:
        super().__init__(message)


class KeyUnwrapError(CryptoError):
    """A wrapped private key did not open under the key-encryption key: the blob was
    altered (AES-GCM tag). Says nothing more, on purpose."""

    code = "key-unwrap-failed"

    def __init__(self, message: str = "wrapped key does not open") -> None:
        super().__init__(message)


class VerificationError(PrivprocError):
    """A check on public data failed.

    ``check`` names the check (a stable, dotted identifier such as
    ``"sevsnp.vcek.signature"``); ``expected`` and ``found`` say what the check
    wanted and what it saw, when that is meaningful and public.
    """

    http_status = 403
    code = "verification-failed"

    def __init__(
        self,
        check: str,
        message: str,
        *,
        expected: object | None = None,
        found: object | None = None,
    ) -> None:
        self.check = check
        self.expected = expected
        self.found = found
        detail = message
        if expected is not None or found is not None:
            detail = f"{message} (expected {expected!s}, found {found!s})"
        super().__init__(f"{check}: {detail}")


class AttestationError(VerificationError):
    """Attestation evidence, its endorsements, or the attestation policy failed."""

    code = "attestation-failed"


class LedgerError(VerificationError):
    """A transparency-log check failed."""

    code = "ledger-failed"


class ProofError(LedgerError):
    """An inclusion or consistency proof does not verify."""

    code = "bad-proof"


class ForkError(LedgerError):
    """Two views of a log are inconsistent: a fork or a rollback."""

    code = "fork"


class BadConsistencyError(ProofError):
    """A witness refuses the consistency proof from its cosigned checkpoint
    (C2SP tlog-witness: 422)."""

    http_status = 422
    code = "bad-consistency-proof"


class SizeConflictError(ForkError):
    """A witness's ``old`` size is not the size it last cosigned, or a same-size fork
    (C2SP tlog-witness: 409, the body is the known size)."""

    http_status = 409
    code = "conflict"

    def __init__(self, check: str, message: str, *, known_size: int, found: object) -> None:
        self.known_size = known_size
        super().__init__(check, message, expected=known_size, found=found)


class StaleError(LedgerError):
    """A checkpoint, proof or evidence is older than allowed."""

    code = "stale"


class TokenError(VerificationError):
    """A Privacy Pass token, request or response does not verify."""

    http_status = 401
    code = "bad-token"


class KekMismatchError(VerificationError):
    """A wrapped key was made under another key-encryption key (``gateway.kek.id``)."""

    code = "kek-mismatch"


class KeyBindingError(VerificationError):
    """A wrapped key is bound to another key id or config than asked (``gateway.kek.binding``)."""

    code = "key-binding"


class PolicyError(VerificationError):
    """A configured rule refuses the operation."""

    code = "policy"


class QuotaError(PrivprocError):
    """A quota is used up."""

    http_status = 429
    code = "quota-exceeded"


class RateLimitedError(QuotaError):
    """A client sent requests faster than the service's rate limit (RFC 6585 §4: 429)."""

    code = "rate-limited"


class AuthError(PrivprocError):
    """The caller is not authenticated or not authorized."""

    http_status = 401
    code = "unauthorized"


class StoreError(PrivprocError):
    """A backing store failed or is unreachable; the operation fails closed."""

    http_status = 503
    code = "store-unavailable"


class NotReadyError(StoreError):
    """The service has not loaded the state it serves yet; retry later (503)."""

    code = "not-ready"


class LeaseLostError(StoreError):
    """A write under a lease that another holder now has (or that expired): refused."""

    code = "lease-lost"


class RemoteError(PrivprocError):
    """A remote party answered with an error."""

    http_status = 502
    code = "remote-error"

    def __init__(self, message: str, *, status: int, problem: str = "") -> None:
        self.status = status
        self.problem = problem
        super().__init__(f"{message} (HTTP {status}{', ' + problem if problem else ''})")


class NodeRefusedError(RemoteError):
    """An enclave node answered a forwarded request with an error (502).

    The node's problem type (a short token) is passed on as ``code``, never its text.
    """

    def __init__(self, status: int, problem: str) -> None:
        super().__init__("node refused", status=status, problem=problem)
        if problem and problem.replace("-", "").isalnum():
            self.code = problem


class ChildFailedError(PrivprocError):
    """A node's per-request child refused the request, crashed, or ran over its time.

    ``code`` is the child's content-free error code (a privproc error code, or
    ``"crashed"`` / ``"timeout"``) and ``http_status`` its status; the message says
    nothing else.
    """

    http_status = 500
    code = "child-failed"

    def __init__(self, reason: str, status: int = 500) -> None:
        self.reason = reason
        self.http_status = status
        self.code = reason if reason.replace("-", "").isalnum() else "child-failed"
        super().__init__(f"request failed in the node: {reason}")


class ConfigError(PrivprocError):
    """Local configuration is missing or invalid."""

    code = "config"
