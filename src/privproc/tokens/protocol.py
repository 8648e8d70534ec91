"""Privacy Pass wire structures for token type 0x0002 (RFC 9577, RFC 9578).

* :class:`TokenChallenge` (RFC 9577 §2.1) and :class:`Token` (RFC 9577 §2.2);
* :class:`TokenRequest` and :class:`TokenResponse` (RFC 9578 §6.1, §6.2);
* the token key: RSASSA-PSS SubjectPublicKeyInfo (RFC 9578 §6.5), its key id
  SHA-256(SPKI) and truncated key id (its last byte);
* the issuer directory (RFC 9578 §4).

Decoders raise only :class:`~privproc.errors.DecodeError`, also for a token type
or key algorithm we do not do (the issuer answers all of them with 422).
Values are frozen and checked when made.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from privproc._wire import Reader, Writer
from privproc.errors import DecodeError, MisuseError, PrivprocError
from privproc.tokens import _spki
from privproc.tokens.blind_rsa import PublicKey

__all__ = [
    "DIRECTORY_MEDIA_TYPE",
    "DIRECTORY_PATH",
    "NID",
    "NK",
    "REQUEST_MEDIA_TYPE",
    "RESPONSE_MEDIA_TYPE",
    "TOKEN_TYPE_BLIND_RSA",
    "DirectoryKey",
    "IssuerDirectory",
    "Token",
    "TokenChallenge",
    "TokenKey",
    "TokenRequest",
    "TokenResponse",
    "b64url_decode",
    "b64url_encode",
]

#: RFC 9578 §8.2.2: Blind RSA (2048-bit), publicly verifiable.
TOKEN_TYPE_BLIND_RSA = 0x0002
#: Nk for type 0x0002: the RSA modulus length in bytes (RFC 9578 §8.2.2).
NK = 256
#: Nid: the length of a token key id, SHA-256 (RFC 9578 §8.2.2).
NID = 32
_NONCE_LEN = 32
_DIGEST_LEN = 32
_REDEMPTION_CONTEXT_LENS = (0, 32)  # RFC 9577 §2.1

#: RFC 9578 §8.1 media types.
REQUEST_MEDIA_TYPE = "application/private-token-request"
RESPONSE_MEDIA_TYPE = "application/private-token-response"
DIRECTORY_MEDIA_TYPE = "application/private-token-issuer-directory"
#: RFC 9578 §4: the directory's well-known location.
DIRECTORY_PATH = "/.well-known/private-token-issuer-directory"


def b64url_encode(data: bytes, *, pad: bool = True) -> str:
    """base64url (RFC 4648 §5), with padding unless ``pad=False``."""
    text = base64.urlsafe_b64encode(data).decode("ascii")
    return text if pad else text.rstrip("=")


def b64url_decode(text: str, what: str = "base64url") -> bytes:
    """Decode base64url with or without padding; refuses anything else (DecodeError)."""
    if not isinstance(text, str):
        raise DecodeError(f"{what}: not a string")
    stripped = text.strip().rstrip("=")
    if any(c not in _B64URL for c in stripped) or len(stripped) % 4 == 1:
        raise DecodeError(f"{what}: not base64url")
    try:
        return base64.urlsafe_b64decode(stripped + "=" * (-len(stripped) % 4))
    except (binascii.Error, ValueError):
        raise DecodeError(f"{what}: not base64url") from None


_B64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _ascii(data: bytes, what: str) -> str:
    try:
        return data.decode("ascii")
    except UnicodeDecodeError:
        raise DecodeError(f"{what}: not ASCII") from None


@dataclass(frozen=True, slots=True)
class TokenChallenge:
    """RFC 9577 §2.1 TokenChallenge.

    ``origin_info`` is the ASCII origin list as it appears on the wire (names
    separated by commas, RFC 9577 §2.1.1), or ``""``.
    """

    token_type: int
    issuer_name: str
    redemption_context: bytes = b""
    origin_info: str = ""

    def __post_init__(self) -> None:
        if not 0 <= self.token_type <= 0xFFFF:
            raise MisuseError("token_type out of range")
        if not self.issuer_name or len(self.issuer_name) > 0xFFFF or not self.issuer_name.isascii():
            raise MisuseError("issuer_name must be 1..65535 ASCII characters")
        if len(self.redemption_context) not in _REDEMPTION_CONTEXT_LENS:
            raise MisuseError("redemption_context must be 0 or 32 bytes")
        if len(self.origin_info) > 0xFFFF or not self.origin_info.isascii():
            raise MisuseError("origin_info must be at most 65535 ASCII characters")

    @property
    def origins(self) -> tuple[str, ...]:
        """The origin names in ``origin_info`` (empty when the challenge is cross-origin)."""
        return tuple(o for o in self.origin_info.split(",") if o)

    def encode(self) -> bytes:
        """The TokenChallenge bytes."""
        return (
            Writer()
            .write_uint16(self.token_type)
            .write_vec(2, self.issuer_name.encode("ascii"))
            .write_vec(1, self.redemption_context)
            .write_vec(2, self.origin_info.encode("ascii"))
            .getvalue()
        )

    def digest(self) -> bytes:
        """challenge_digest = SHA-256(TokenChallenge) (RFC 9578 §6.1)."""
        return hashlib.sha256(self.encode()).digest()

    @classmethod
    def decode(cls, data: bytes) -> TokenChallenge:
        """Parse a TokenChallenge; any token type (callers check the type they accept)."""
        r = Reader(data)
        token_type = r.read_uint16("token_type")
        issuer = r.read_vec(2, "issuer_name")
        context = r.read_vec(1, "redemption_context")
        origin = r.read_vec(2, "origin_info")
        r.expect_end("TokenChallenge")
        if not issuer:
            raise DecodeError("issuer_name: empty")
        if len(context) not in _REDEMPTION_CONTEXT_LENS:
            raise DecodeError(f"redemption_context: length {len(context)} is not 0 or 32")
        return cls(
            token_type, _ascii(issuer, "issuer_name"), context, _ascii(origin, "origin_info")
        )


def _check_type(token_type: int) -> None:
    if token_type != TOKEN_TYPE_BLIND_RSA:
        raise DecodeError(f"token type {token_type:#06x} is not supported (only 0x0002)")


@dataclass(frozen=True, slots=True)
class TokenRequest:
    """RFC 9578 §6.1 TokenRequest for type 0x0002."""

    truncated_token_key_id: int
    blinded_msg: bytes
    token_type: int = TOKEN_TYPE_BLIND_RSA

    def __post_init__(self) -> None:
        if self.token_type != TOKEN_TYPE_BLIND_RSA:
            raise MisuseError("only token type 0x0002 is implemented")
        if not 0 <= self.truncated_token_key_id <= 0xFF:
            raise MisuseError("truncated_token_key_id is one byte")
        if len(self.blinded_msg) != NK:
            raise MisuseError(f"blinded_msg must be {NK} bytes")

    def encode(self) -> bytes:
        """The TokenRequest bytes."""
        return (
            Writer()
            .write_uint16(self.token_type)
            .write_uint8(self.truncated_token_key_id)
            .write_bytes(self.blinded_msg)
            .getvalue()
        )

    @classmethod
    def decode(cls, data: bytes) -> TokenRequest:
        """Parse; DecodeError for another token type or bad sizes."""
        r = Reader(data)
        _check_type(r.read_uint16("token_type"))
        truncated = r.read_uint8("truncated_token_key_id")
        blinded = r.read_bytes(NK, "blinded_msg")
        r.expect_end("TokenRequest")
        return cls(truncated, blinded)


@dataclass(frozen=True, slots=True)
class TokenResponse:
    """RFC 9578 §6.2 TokenResponse for type 0x0002: the blind signature."""

    blind_sig: bytes

    def __post_init__(self) -> None:
        if len(self.blind_sig) != NK:
            raise MisuseError(f"blind_sig must be {NK} bytes")

    def encode(self) -> bytes:
        """The TokenResponse bytes."""
        return bytes(self.blind_sig)

    @classmethod
    def decode(cls, data: bytes) -> TokenResponse:
        """Parse; DecodeError unless exactly Nk bytes."""
        r = Reader(data)
        sig = r.read_bytes(NK, "blind_sig")
        r.expect_end("TokenResponse")
        return cls(sig)


@dataclass(frozen=True, slots=True)
class Token:
    """RFC 9577 §2.2 Token, type 0x0002 (authenticator = RSA-PSS signature, Nk bytes)."""

    nonce: bytes
    challenge_digest: bytes
    token_key_id: bytes
    authenticator: bytes
    token_type: int = TOKEN_TYPE_BLIND_RSA

    def __post_init__(self) -> None:
        if self.token_type != TOKEN_TYPE_BLIND_RSA:
            raise MisuseError("only token type 0x0002 is implemented")
        if len(self.nonce) != _NONCE_LEN or len(self.challenge_digest) != _DIGEST_LEN:
            raise MisuseError("nonce and challenge_digest are 32 bytes")
        if len(self.token_key_id) != NID:
            raise MisuseError(f"token_key_id is {NID} bytes")
        if len(self.authenticator) != NK:
            raise MisuseError(f"authenticator is {NK} bytes")

    def authenticator_input(self) -> bytes:
        """token_type || nonce || challenge_digest || token_key_id (RFC 9578 §6.4)."""
        return (
            Writer()
            .write_uint16(self.token_type)
            .write_bytes(self.nonce)
            .write_bytes(self.challenge_digest)
            .write_bytes(self.token_key_id)
            .getvalue()
        )

    def encode(self) -> bytes:
        """The Token bytes."""
        return self.authenticator_input() + self.authenticator

    @classmethod
    def decode(cls, data: bytes) -> Token:
        """Parse; DecodeError for another token type or bad sizes."""
        r = Reader(data)
        _check_type(r.read_uint16("token_type"))
        nonce = r.read_bytes(_NONCE_LEN, "nonce")
        digest = r.read_bytes(_DIGEST_LEN, "challenge_digest")
        key_id = r.read_bytes(NID, "token_key_id")
        authenticator = r.read_bytes(NK, "authenticator")
        r.expect_end("Token")
        return cls(nonce, digest, key_id, authenticator)


@dataclass(frozen=True, slots=True)
class TokenKey:
    """An issuer's public token key, as the SPKI bytes of RFC 9578 §6.5.

    The bytes are kept as received: the key id is SHA-256 over exactly them.
    """

    spki: bytes
    public_key: PublicKey

    @classmethod
    def from_public_key(cls, pk: PublicKey) -> TokenKey:
        """Encode ``pk`` as the RFC 9578 §6.5 SPKI (2048-bit keys only, Nk = 256)."""
        if pk.modulus_len != NK:
            raise MisuseError(f"token type 0x0002 needs a {NK * 8}-bit key")
        return cls(_spki.encode_spki(pk.n, pk.e), pk)

    @classmethod
    def decode(cls, spki: bytes) -> TokenKey:
        """Parse SPKI bytes; DecodeError for anything but a 2048-bit RSASSA-PSS key."""
        n, e = _spki.decode_spki(spki)
        try:
            pk = PublicKey(n, e)
        except MisuseError as exc:
            raise DecodeError(f"token key: {exc}") from None
        if pk.modulus_len != NK:
            raise DecodeError(f"token key: {pk.n.bit_length()}-bit modulus, type 0x0002 is 2048")
        return cls(bytes(spki), pk)

    @property
    def key_id(self) -> bytes:
        """token_key_id = SHA-256(SPKI) (RFC 9578 §6.5)."""
        return hashlib.sha256(self.spki).digest()

    @property
    def truncated_key_id(self) -> int:
        """The last byte of the key id (RFC 9578 §6.1)."""
        return self.key_id[-1]


@dataclass(frozen=True, slots=True)
class DirectoryKey:
    """One entry of the directory's ``token-keys`` (RFC 9578 §4)."""

    token_type: int
    token_key: bytes
    not_before: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.token_type <= 0xFFFF:
            raise MisuseError("token-type out of range")
        if self.not_before is not None and self.not_before < 0:
            raise MisuseError("not-before must be a Unix time")


_MAX_DIRECTORY = 64 * 1024


@dataclass(frozen=True, slots=True)
class IssuerDirectory:
    """The issuer directory (RFC 9578 §4). Keys in order of preference, first preferred."""

    issuer_request_uri: str
    token_keys: tuple[DirectoryKey, ...]

    def to_json(self) -> bytes:
        """The directory as JSON (``token-key`` base64url with padding, RFC 9578 §4)."""
        keys: list[dict[str, object]] = []
        for k in self.token_keys:
            entry: dict[str, object] = {
                "token-type": k.token_type,
                "token-key": b64url_encode(k.token_key),
            }
            if k.not_before is not None:
                entry["not-before"] = k.not_before
            keys.append(entry)
        body = {"issuer-request-uri": self.issuer_request_uri, "token-keys": keys}
        return json.dumps(body, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes) -> IssuerDirectory:
        """Parse a directory; unknown fields are ignored, bad ones raise DecodeError."""
        if len(data) > _MAX_DIRECTORY:
            raise DecodeError("issuer directory: too large")
        try:
            body = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise DecodeError("issuer directory: not JSON") from None
        if not isinstance(body, dict):
            raise DecodeError("issuer directory: not a JSON object")
        uri = body.get("issuer-request-uri")
        raw_keys = body.get("token-keys")
        if not isinstance(uri, str) or not isinstance(raw_keys, list):
            raise DecodeError("issuer directory: missing issuer-request-uri or token-keys")
        keys = []
        for entry in raw_keys:
            if not isinstance(entry, dict):
                raise DecodeError("issuer directory: token-keys entry is not an object")
            token_type = entry.get("token-type")
            token_key = entry.get("token-key")
            not_before = entry.get("not-before")
            if not isinstance(token_type, int) or isinstance(token_type, bool):
                raise DecodeError("issuer directory: token-type is not an integer")
            if not isinstance(token_key, str):
                raise DecodeError("issuer directory: token-key is not a string")
            if not_before is not None and (
                not isinstance(not_before, int) or isinstance(not_before, bool)
            ):
                raise DecodeError("issuer directory: not-before is not an integer")
            try:
                keys.append(
                    DirectoryKey(token_type, b64url_decode(token_key, "token-key"), not_before)
                )
            except MisuseError as exc:
                raise DecodeError(f"issuer directory: {exc}") from None
        return cls(uri, tuple(keys))

    def usable_keys(self, now: float) -> tuple[TokenKey, ...]:
        """The type 0x0002 keys valid at ``now`` (``not-before`` passed), in preference order.

        Entries of other token types, or whose key does not parse, are skipped.
        """
        out = []
        for k in self.token_keys:
            if k.token_type != TOKEN_TYPE_BLIND_RSA:
                continue
            if k.not_before is not None and k.not_before > now:
                continue
            try:
                out.append(TokenKey.decode(k.token_key))
            except PrivprocError:
                continue
        return tuple(out)
