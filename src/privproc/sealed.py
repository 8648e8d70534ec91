"""The privproc sealed request and response (docs/e2e.md, "Sealed request format").

The device seals one request for K candidate nodes: a fresh 32-byte data key
encrypts the padded payload with AES-256-GCM, and the data key is wrapped to
each node's HPKE key (RFC 9180 §6.1 single-shot, base mode; suite
DHKEM(X25519, HKDF-SHA256) / HKDF-SHA256 / AES-256-GCM, ids per RFC 9180 §7).
Any one of the K nodes can open it; nobody else can, so whoever forwards it can
only pick among the K. The node answers under a key derived with HKDF
(RFC 5869) from the data key, a fresh response salt and the digest of the whole
sealed request, so the answer is bound to the request and opens only on the
device that made it.

Byte layout (integers big-endian)::

    SealedRequest {
        "PPSR"                      4 bytes, magic
        uint8  version = 1
        uint16 kem_id, kdf_id, aead_id        HPKE suite of the wraps
        uint8  nonce[12]                      AES-256-GCM nonce of the body
        uint8  count                          K, 1..8
        Wrap { uint8 key_id[32]; uint8 enc[32]; uint8 wrapped_key[48]; } wraps[count]
        uint8  body[..]                       AES-256-GCM(data_key, nonce, padded, aad=header)
    }
    padded  = uint32 length || payload || zeros, to a size bucket (BUCKETS)
    wrap    = HPKE.Seal(pk_node, info = INFO || key_id, aad = header up to count, data_key)
    key_id  = SHA-256("privproc node key v1" || 0x00 || pk_node)

    SealedResponse {
        "PPSP"  uint8 version = 1  uint8 key_id[32]  uint8 salt[32]
        uint8  body[..]             AES-256-GCM(k, n, padded, aad = header)
    }
    k || n  = HKDF-SHA256(ikm = data_key, salt, info = RESPONSE_INFO || SHA-256(request), 44)

Everything but the padded body is public: the K key ids (the gateway needs them
to route), the suite and the size bucket.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privproc._wire import Reader, Writer
from privproc.errors import CryptoError, DecodeError, MisuseError, OpenError, PrivprocError
from privproc.hpke import AEAD, KDF, KEM, PrivateKey, Suite
from privproc.limits import BUCKETS, MAX_NODES, MAX_PAYLOAD, PAD_OVERHEAD

__all__ = [
    "BUCKETS",
    "INFO",
    "MAX_NODES",
    "RESPONSE_INFO",
    "SUITE",
    "OpenedRequest",
    "RequestSecret",
    "SealedHeader",
    "generate_node_key",
    "node_key_id",
    "open_request",
    "parse_header",
    "seal_request",
]

REQUEST_MAGIC = b"PPSR"
RESPONSE_MAGIC = b"PPSP"
VERSION = 1
#: HPKE info prefix for a wrap; the node's key id follows it.
INFO = b"privproc sealed request v1\x00"
#: HKDF info prefix for the response key; SHA-256 of the sealed request follows it.
RESPONSE_INFO = b"privproc sealed response v1\x00"
#: The wraps' HPKE suite.
SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_256_GCM)

_KEY_ID = 32
_ENC = 32
_DATA_KEY = 32
_WRAPPED = _DATA_KEY + 16
_NONCE = 12
_SALT = 32
_FIXED = 4 + 1 + 6 + _NONCE + 1
_RESPONSE_HEADER = 4 + 1 + _KEY_ID + _SALT

Random = Callable[[int], bytes]


def node_key_id(public_key: bytes) -> bytes:
    """The 32-byte id a sealed request uses for a node public key."""
    return hashlib.sha256(b"privproc node key v1\x00" + public_key).digest()


def generate_node_key() -> tuple[PrivateKey, bytes]:
    """A fresh node key: ``(private key object, serialized public key)`` for :data:`SUITE`.

    The private key is generated inside ``cryptography`` and never serialized, so no
    ``bytes`` copy of it exists (issue 12 item 4, :mod:`privproc.enclave.keys`).
    """
    sk = SUITE.kem.generate_private_key()
    return sk, SUITE.kem.serialize(sk.public_key())


def _pad(payload: bytes) -> bytes:
    need = len(payload) + PAD_OVERHEAD
    for bucket in BUCKETS:
        if need <= bucket:
            return len(payload).to_bytes(4, "big") + payload + bytes(bucket - need)
    raise MisuseError(f"sealed payload over {MAX_PAYLOAD} bytes")


def _unpad(padded: bytes) -> bytes:
    if len(padded) < 4:
        raise DecodeError("sealed body: shorter than its length field")
    n = int.from_bytes(padded[:4], "big")
    if n > len(padded) - 4 or any(padded[4 + n :]):
        raise DecodeError("sealed body: bad padding")
    return padded[4 : 4 + n]


@dataclass(frozen=True, slots=True)
class SealedHeader:
    """The public part of a sealed request: the suite ids and the K key ids, in order."""

    key_ids: tuple[bytes, ...]
    size: int

    def __post_init__(self) -> None:
        if not 1 <= len(self.key_ids) <= MAX_NODES:
            raise MisuseError("sealed header: 1 to 8 key ids")


def parse_header(data: bytes) -> SealedHeader:
    """Read the public header of a sealed request (no key needed)."""
    header, _wraps, _body = _split(data)
    return header


def _split(data: bytes) -> tuple[SealedHeader, list[tuple[bytes, bytes, bytes]], int]:
    r = Reader(data)
    if r.read_bytes(4, "magic") != REQUEST_MAGIC:
        raise DecodeError("sealed request: bad magic")
    if r.read_uint8("version") != VERSION:
        raise DecodeError("sealed request: unsupported version")
    ids = (r.read_uint16("kem_id"), r.read_uint16("kdf_id"), r.read_uint16("aead_id"))
    if ids != (int(SUITE.kem), int(SUITE.kdf), int(SUITE.aead)):
        raise DecodeError("sealed request: unsupported HPKE suite")
    r.read_bytes(_NONCE, "nonce")
    count = r.read_uint8("count")
    if not 1 <= count <= MAX_NODES:
        raise DecodeError("sealed request: count out of range")
    wraps = [
        (r.read_bytes(_KEY_ID, "key_id"), r.read_bytes(_ENC, "enc"), r.read_bytes(_WRAPPED, "wrap"))
        for _ in range(count)
    ]
    body_at = r.position
    if r.remaining < 16 + 4:
        raise DecodeError("sealed request: body too short")
    return SealedHeader(tuple(w[0] for w in wraps), len(data)), wraps, body_at


def _response_key(data_key: bytes, salt: bytes, request: bytes) -> tuple[bytes, bytes]:
    okm = HKDF(
        algorithm=hashes.SHA256(),
        length=_DATA_KEY + _NONCE,
        salt=salt,
        info=RESPONSE_INFO + hashlib.sha256(request).digest(),
    ).derive(data_key)
    return okm[:_DATA_KEY], okm[_DATA_KEY:]


@dataclass(frozen=True, slots=True)
class RequestSecret:
    """What the device keeps to open the answer: the data key and the sealed request.

    ``repr()`` leaves out the data key and the request.
    """

    data_key: bytes = field(repr=False)
    request: bytes = field(repr=False)
    key_ids: tuple[bytes, ...]

    def open_response(self, data: bytes) -> tuple[bytes, bytes]:
        """Open a sealed response: ``(key_id of the answering node, payload)``.

        Raises :class:`OpenError` for any failure, and when the answering node is
        not one of the K this request named.
        """
        try:
            r = Reader(data)
            if r.read_bytes(4, "magic") != RESPONSE_MAGIC or r.read_uint8("version") != VERSION:
                raise OpenError
            key_id = r.read_bytes(_KEY_ID, "key_id")
            salt = r.read_bytes(_SALT, "salt")
            if key_id not in self.key_ids:
                raise OpenError
            key, nonce = _response_key(self.data_key, salt, self.request)
            padded = AESGCM(key).decrypt(nonce, r.read_rest(), data[:_RESPONSE_HEADER])
            return key_id, _unpad(padded)
        except (InvalidTag, PrivprocError):
            raise OpenError from None


def seal_request(
    payload: bytes, node_keys: Sequence[bytes], *, random: Random = os.urandom
) -> tuple[bytes, RequestSecret]:
    """Seal ``payload`` for the nodes holding ``node_keys`` (HPKE public keys, 1 to 8)."""
    if not 1 <= len(node_keys) <= MAX_NODES:
        raise MisuseError("seal_request: 1 to 8 node keys")
    data_key = random(_DATA_KEY)
    nonce = random(_NONCE)
    w = Writer()
    w.write_bytes(REQUEST_MAGIC)
    w.write_uint8(VERSION)
    w.write_uint16(int(SUITE.kem))
    w.write_uint16(int(SUITE.kdf))
    w.write_uint16(int(SUITE.aead))
    w.write_bytes(nonce)
    w.write_uint8(len(node_keys))
    fixed = w.getvalue()
    key_ids = []
    for pk in node_keys:
        key_id = node_key_id(pk)
        # Injected randomness also drives the ephemeral keys (tests); os.urandom leaves it to HPKE.
        ikm_e = None if random is os.urandom else random(32)
        enc, ctx = SUITE.setup_sender(pk, INFO + key_id, ikm_e=ikm_e)
        w.write_bytes(key_id)
        w.write_bytes(enc)
        w.write_bytes(ctx.seal(data_key, fixed))
        key_ids.append(key_id)
    header = w.getvalue()
    body = AESGCM(data_key).encrypt(nonce, _pad(payload), header)
    sealed = header + body
    return sealed, RequestSecret(data_key, sealed, tuple(key_ids))


@dataclass(frozen=True, slots=True)
class OpenedRequest:
    """A request a node opened: the payload, and what it needs to seal the answer.

    ``repr()`` shows only the key id: never the plaintext payload or the data key.
    """

    payload: bytes = field(repr=False)
    key_id: bytes
    data_key: bytes = field(repr=False)
    request: bytes = field(repr=False)

    def seal_response(self, payload: bytes, *, random: Random = os.urandom) -> bytes:
        """Seal the answer under the key derived from this request's data key."""
        salt = random(_SALT)
        header = RESPONSE_MAGIC + bytes([VERSION]) + self.key_id + salt
        key, nonce = _response_key(self.data_key, salt, self.request)
        return header + AESGCM(key).encrypt(nonce, _pad(payload), header)


def open_request(data: bytes, private_key: PrivateKey | bytes, public_key: bytes) -> OpenedRequest:
    """Open a sealed request with one node key; :class:`OpenError` when it cannot.

    ``private_key`` is the key object (what a node passes: no serialized copy is
    made) or its serialized bytes.

    Malformed headers raise :class:`DecodeError`; everything after (no wrap for
    this key, a wrap or body that does not open, bad padding) is one OpenError.
    """
    header, wraps, body_at = _split(data)
    key_id = node_key_id(public_key)
    mine = [w for w in wraps if w[0] == key_id]
    if not mine:
        raise OpenError
    _kid, enc, wrapped = mine[0]
    try:
        ctx = SUITE.setup_recipient(enc, private_key, INFO + key_id)
        data_key = ctx.open(wrapped, data[:_FIXED])
        nonce = data[_FIXED - 1 - _NONCE : _FIXED - 1]
        padded = AESGCM(data_key).decrypt(nonce, data[body_at:], data[:body_at])
        payload = _unpad(padded)
    except (InvalidTag, CryptoError, DecodeError, ValueError):
        raise OpenError from None
    del header
    return OpenedRequest(payload, key_id, data_key, data)
