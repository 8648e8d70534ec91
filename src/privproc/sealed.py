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

    SealedStream {                  a streamed answer (docs/streaming.md)
        "PPSS"  uint8 version = 1  uint8 key_id[32]  uint8 salt[32]
        Frame frames[..]            each exactly STREAM_FRAME bytes on the wire
    }
    Frame   = AES-256-GCM(k, n XOR i, flags || uint16 length || piece || zeros, aad = header)
              the plaintext always STREAM_FRAME_PLAINTEXT bytes; i = 0, 1, ... the frame's
              index (big-endian, 12 bytes); flags 0x01 on the last frame, 0x00 before
    k || n  = HKDF-SHA256(ikm = data_key, salt, info = STREAM_INFO || SHA-256(request), 44)

The frame counter in the nonce orders the frames (a reordered, dropped or replayed frame
does not open), the key binds them to this request and this salt (a frame spliced from
another stream does not open), and only the frame flagged last ends the answer (a stream
that stops before it is :class:`~privproc.errors.TruncatedError`).

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
from privproc.errors import (
    CryptoError,
    DecodeError,
    MisuseError,
    OpenError,
    PrivprocError,
    TruncatedError,
)
from privproc.hpke import AEAD, KDF, KEM, PrivateKey, Suite
from privproc.limits import (
    BUCKETS,
    MAX_NODES,
    MAX_PAYLOAD,
    MAX_STREAM_FRAMES,
    PAD_OVERHEAD,
    STREAM_FRAME,
    STREAM_FRAME_HEADER,
    STREAM_FRAME_PLAINTEXT,
    STREAM_PIECE,
)

__all__ = [
    "BUCKETS",
    "INFO",
    "MAX_NODES",
    "RESPONSE_INFO",
    "STREAM_INFO",
    "SUITE",
    "OpenedRequest",
    "RequestSecret",
    "SealedHeader",
    "StreamOpener",
    "StreamSealer",
    "generate_node_key",
    "node_key_id",
    "open_request",
    "parse_header",
    "seal_request",
]

REQUEST_MAGIC = b"PPSR"
RESPONSE_MAGIC = b"PPSP"
STREAM_MAGIC = b"PPSS"
VERSION = 1
#: HPKE info prefix for a wrap; the node's key id follows it.
INFO = b"privproc sealed request v1\x00"
#: HKDF info prefix for the response key; SHA-256 of the sealed request follows it.
RESPONSE_INFO = b"privproc sealed response v1\x00"
#: HKDF info prefix for a streamed answer's key; SHA-256 of the sealed request follows it.
STREAM_INFO = b"privproc sealed stream v1\x00"
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


def _response_key(
    data_key: bytes, salt: bytes, request: bytes, info: bytes = RESPONSE_INFO
) -> tuple[bytes, bytes]:
    okm = HKDF(
        algorithm=hashes.SHA256(),
        length=_DATA_KEY + _NONCE,
        salt=salt,
        info=info + hashlib.sha256(request).digest(),
    ).derive(data_key)
    return okm[:_DATA_KEY], okm[_DATA_KEY:]


_FINAL = 0x01


class _FrameNonces:
    """Frame ``i``'s nonce: the base nonce XOR ``i`` (as draft-ietf-ohai-chunked-ohttp §6.2
    derives a chunk's), at most :data:`MAX_STREAM_FRAMES` frames."""

    __slots__ = ("_base", "_count")

    def __init__(self, base: bytes) -> None:
        self._base = int.from_bytes(base, "big")
        self._count = 0

    def next(self, over: type[PrivprocError]) -> bytes:
        if self._count >= MAX_STREAM_FRAMES:
            raise over(f"sealed stream over {MAX_STREAM_FRAMES} frames")
        nonce = (self._base ^ self._count).to_bytes(_NONCE, "big")
        self._count += 1
        return nonce


class StreamSealer:
    """The node's side of a streamed answer (module docstring, ``SealedStream``).

    :meth:`seal` returns whole frames for a piece of the answer (the first call's bytes
    start with the header); :meth:`finish` ends the stream with the frame flagged last.
    Each call pads its last frame, so every write leaves at once, whatever its size.
    """

    __slots__ = ("_aead", "_finished", "_header", "_header_sent", "_nonces")

    def __init__(self, key_id: bytes, data_key: bytes, request: bytes, salt: bytes) -> None:
        self._header = STREAM_MAGIC + bytes([VERSION]) + key_id + salt
        key, nonce = _response_key(data_key, salt, request, STREAM_INFO)
        self._aead = AESGCM(key)
        self._nonces = _FrameNonces(nonce)
        self._header_sent = False
        self._finished = False

    def _frames(self, piece: bytes, final: bool) -> bytes:
        if self._finished:
            raise MisuseError("sealed stream: write after the final frame")
        out = bytearray()
        if not self._header_sent:
            out += self._header
            self._header_sent = True
        cuts = [piece[i : i + STREAM_PIECE] for i in range(0, len(piece), STREAM_PIECE)]
        if final and not cuts:
            cuts = [b""]
        for n, cut in enumerate(cuts):
            flags = _FINAL if final and n == len(cuts) - 1 else 0
            padded = bytes([flags]) + len(cut).to_bytes(2, "big") + cut
            padded += bytes(STREAM_FRAME_PLAINTEXT - len(padded))
            out += self._aead.encrypt(self._nonces.next(MisuseError), padded, self._header)
        self._finished = final
        return bytes(out)

    def seal(self, piece: bytes) -> bytes:
        """Frames carrying ``piece`` (none for an empty piece, but the header on the first call)."""
        return self._frames(bytes(piece), final=False)

    def finish(self, piece: bytes = b"") -> bytes:
        """Frames carrying ``piece``, the last flagged final: the stream's end."""
        return self._frames(bytes(piece), final=True)

    def __repr__(self) -> str:
        return f"StreamSealer(finished={self._finished})"


class StreamOpener:
    """The device's side of a streamed answer: fed the stream's bytes cut anywhere, it
    returns each frame's piece once the frame is whole; :meth:`end` says it is complete.

    Holds at most one frame between calls. Any failure leaves it failed: a forged frame
    cannot be followed by more. Raises :class:`OpenError` (a frame that does not open:
    altered, reordered, replayed, from another stream, from a node this request did not
    name), :class:`TruncatedError` (the stream ended before its last frame) and
    :class:`DecodeError` (bytes after the last frame, too many frames).
    """

    __slots__ = ("_aead", "_buf", "_done", "_failed", "_header", "_key_id", "_nonces", "_secret")

    def __init__(self, secret: RequestSecret) -> None:
        self._secret = secret
        self._buf = bytearray()
        self._header = b""
        self._aead: AESGCM | None = None
        self._nonces: _FrameNonces | None = None
        self._key_id: bytes | None = None
        self._done = False
        self._failed = False

    @property
    def key_id(self) -> bytes | None:
        """The answering node's key id, once the header is read (one of the K named)."""
        return self._key_id

    @property
    def complete(self) -> bool:
        """True once the frame flagged last opened."""
        return self._done

    def _read_header(self) -> bool:
        if len(self._buf) < _RESPONSE_HEADER:
            return False
        header = bytes(self._buf[:_RESPONSE_HEADER])
        if header[:4] != STREAM_MAGIC or header[4] != VERSION:
            raise OpenError
        key_id, salt = header[5 : 5 + _KEY_ID], header[5 + _KEY_ID :]
        if key_id not in self._secret.key_ids:
            raise OpenError
        key, nonce = _response_key(self._secret.data_key, salt, self._secret.request, STREAM_INFO)
        self._aead, self._nonces, self._key_id = AESGCM(key), _FrameNonces(nonce), key_id
        self._header = header
        del self._buf[:_RESPONSE_HEADER]
        return True

    def _open_frame(self, frame: bytes) -> bytes:
        assert self._aead is not None  # after the header
        assert self._nonces is not None
        nonce = self._nonces.next(DecodeError)
        try:
            padded = self._aead.decrypt(nonce, frame, self._header)
        except InvalidTag:
            raise OpenError from None
        flags, n = padded[0], int.from_bytes(padded[1:STREAM_FRAME_HEADER], "big")
        end = STREAM_FRAME_HEADER + n
        if flags not in (0, _FINAL) or n > STREAM_PIECE or any(padded[end:]):
            raise DecodeError("sealed stream: bad frame padding")
        self._done = flags == _FINAL
        return padded[STREAM_FRAME_HEADER:end]

    def feed(self, data: bytes) -> list[bytes]:
        """The pieces of every frame ``data`` completes, in order (maybe none)."""
        if self._failed:
            raise MisuseError("sealed stream: this opener already refused the stream")
        try:
            self._buf += data
            if self._key_id is None and not self._read_header():
                return []
            out: list[bytes] = []
            pos = 0
            while len(self._buf) - pos >= STREAM_FRAME:
                if self._done:
                    raise DecodeError("sealed stream: bytes after the final frame")
                out.append(self._open_frame(bytes(self._buf[pos : pos + STREAM_FRAME])))
                pos += STREAM_FRAME
            del self._buf[:pos]
            if self._done and self._buf:
                raise DecodeError("sealed stream: bytes after the final frame")
        except PrivprocError:
            self._failed = True
            self._buf.clear()
            raise
        return out

    def end(self) -> None:
        """The stream's bytes ended: :class:`TruncatedError` unless the last frame opened."""
        if self._failed:
            raise MisuseError("sealed stream: this opener already refused the stream")
        if not self._done or self._buf:
            self._failed = True
            raise TruncatedError("sealed stream ended before its final frame")

    def __repr__(self) -> str:
        return f"StreamOpener(complete={self._done}, failed={self._failed})"


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

    def stream_opener(self) -> StreamOpener:
        """The opener of this request's streamed answer (``SealedStream``)."""
        return StreamOpener(self)


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

    def stream_sealer(self, *, random: Random = os.urandom) -> StreamSealer:
        """The sealer of a streamed answer under this request's data key (``SealedStream``)."""
        return StreamSealer(self.key_id, self.data_key, self.request, random(_SALT))


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
