"""Chunked Oblivious HTTP, draft-ietf-ohai-chunked-ohttp-08: incremental seal and open.

The chunked variant of RFC 9458 (:mod:`privproc.ohttp`): a request or a response is sealed
and opened chunk by chunk, so neither end waits for the whole message. Sans I/O: a sender
takes plaintext and returns wire bytes; a receiver is fed wire bytes cut anywhere and
returns each plaintext chunk as soon as its last byte arrives, then :meth:`end` says the
stream is over.

- §3 media types ``message/ohttp-chunked-req`` and ``message/ohttp-chunked-res``; chunks
  of 2^14 plaintext bytes (:data:`~privproc.limits.OHTTP_CHUNK_SIZE`).
- §4 the request: the RFC 9458 header (key id, KEM, KDF, AEAD ids, ``enc``), then chunks,
  each a varint length and the HPKE-sealed chunk; the final chunk has the length 0 and
  runs to the end of the stream. §6.1: the HPKE info is ``"message/bhttp chunked
  request"``, 0, header; every chunk is ``sctxt.Seal(aad, chunk)`` with ``aad`` empty, or
  ``"final"`` for the last (HPKE's sequence number orders the chunks).
- §5 the response: the response nonce (``max(Nn, Nk)`` bytes), then chunks framed as in
  §4. §6.2: ``secret = Export("message/bhttp chunked response", max(Nn, Nk))``, key and
  base nonce derived as in RFC 9458 §4.4, and chunk ``i`` sealed under the nonce
  ``aead_nonce XOR encode(Nn, i)`` with the same AAD rule.
- §6: a non-final chunk never carries an empty plaintext; receiving one is a decryption
  error. Length prefixes are not authenticated, so non-minimal varints are accepted.
- §7.1: a message is complete only after a zero-length prefix and a chunk that opened
  with the AAD ``"final"``; a stream that ends before raises
  :class:`~privproc.errors.TruncatedError`. Reordered, replayed, dropped or altered chunks
  fail authentication: :class:`~privproc.errors.OpenError`, with no detail.
- §7.3: at most :data:`~privproc.limits.OHTTP_CHUNKED_MAX_MESSAGE` plaintext bytes per
  message, and fewer than 256^Nn chunks.

The binary HTTP inside may use either framing (§3); the indeterminate-length one (RFC 9292
§3.2, :func:`privproc.bhttp.encode` with ``framing="indeterminate"``) lets the message be
built incrementally. Chunk boundaries need not align with it (§1.1, §6).

A receiver that raised stays failed (every later call raises MisuseError), so a caller
cannot go on after a forged chunk. Between calls a receiver holds at most one sealed
chunk (plus what a single ``feed`` passed in).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from privproc._wire import Reader, Writer
from privproc.errors import (
    DecodeError,
    MisuseError,
    OpenError,
    PrivprocError,
    TruncatedError,
)
from privproc.hpke import AEAD, KDF, RecipientContext, SenderContext
from privproc.limits import OHTTP_CHUNK_SIZE, OHTTP_CHUNKED_MAX_MESSAGE
from privproc.ohttp import (
    _HEADER_LEN,
    KeyConfig,
    ServerKey,
    _header,
    _key_for_header,
    _nonce_len,
    _ResponseSecret,
)

__all__ = [
    "FINAL_AAD",
    "MEDIA_TYPE_CHUNKED_REQUEST",
    "MEDIA_TYPE_CHUNKED_RESPONSE",
    "ChunkedRequestReceiver",
    "ChunkedRequestSender",
    "ChunkedResponseReceiver",
    "ChunkedResponseSender",
    "encapsulate_chunked_request",
]

#: draft §3 and §8.1: a chunked Encapsulated Request.
MEDIA_TYPE_CHUNKED_REQUEST = "message/ohttp-chunked-req"
#: draft §3 and §8.2: a chunked Encapsulated Response.
MEDIA_TYPE_CHUNKED_RESPONSE = "message/ohttp-chunked-res"
#: draft §6.1 and §6.2: the AAD of the final chunk (0x66696e616c); other chunks have none.
FINAL_AAD = b"final"

#: draft §6.1: the HPKE info starts with this string and a zero byte.
_REQUEST_LABEL = b"message/bhttp chunked request"
#: draft §6.2: the exporter context for the response secret.
_RESPONSE_LABEL = b"message/bhttp chunked response"


def _check_chunk_size(chunk_size: object) -> int:
    if not isinstance(chunk_size, int) or isinstance(chunk_size, bool) or chunk_size < 1:
        raise MisuseError("chunk_size must be a positive int")
    return chunk_size


def _as_bytes(data: object, what: str) -> bytes:
    if isinstance(data, bytes | bytearray | memoryview):
        return bytes(data)
    raise MisuseError(f"{what} takes bytes, not {type(data).__name__}")


# --- sending ------------------------------------------------------------------


class _Sender:
    """What both senders share: the header goes out once, first; plaintext is cut into
    chunks of at most ``chunk_size``; the final chunk has a zero length and AAD "final"."""

    __slots__ = ("_chunk_size", "_finished", "_header_bytes", "_header_sent", "_total")

    def __init__(self, header: bytes, chunk_size: int) -> None:
        self._header_bytes = header
        self._header_sent = False
        self._chunk_size = _check_chunk_size(chunk_size)
        self._finished = False
        self._total = 0

    @property
    def finished(self) -> bool:
        """True once the final chunk has been sealed."""
        return self._finished

    def _seal_one(self, chunk: bytes, aad: bytes) -> bytes:
        raise NotImplementedError  # pragma: no cover - each sender defines it

    def _start(self, data: object, what: str) -> tuple[Writer, bytes]:
        if self._finished:
            raise MisuseError(f"{what} after the final chunk")
        pt = _as_bytes(data, what)
        if self._total + len(pt) > OHTTP_CHUNKED_MAX_MESSAGE:
            raise MisuseError(
                f"chunked message over {OHTTP_CHUNKED_MAX_MESSAGE} bytes (draft §7.3)"
            )
        self._total += len(pt)
        w = Writer()
        if not self._header_sent:
            w.write_bytes(self._header_bytes)
            self._header_sent = True
        return w, pt

    def seal(self, data: bytes) -> bytes:
        """Seal ``data`` as non-final chunks (§4/§5 ``Non-Final ... Chunk``), cut at
        ``chunk_size``; the first call's bytes start with the header. Empty ``data`` seals
        nothing (§6: a non-final chunk is never empty) but still releases the header."""
        w, pt = self._start(data, "seal")
        for i in range(0, len(pt), self._chunk_size):
            w.write_varint_vec(self._seal_one(pt[i : i + self._chunk_size], b""))
        return w.getvalue()

    def finish(self, data: bytes = b"") -> bytes:
        """Seal ``data`` and end the message: all but its last ``chunk_size`` piece as
        non-final chunks, then the final chunk: a zero length and ``Seal("final", ...)``."""
        w, pt = self._start(data, "finish")
        cut = max(0, (len(pt) - 1) // self._chunk_size * self._chunk_size)
        for i in range(0, cut, self._chunk_size):
            w.write_varint_vec(self._seal_one(pt[i : i + self._chunk_size], b""))
        w.write_varint(0).write_bytes(self._seal_one(pt[cut:], FINAL_AAD))
        self._finished = True
        return w.getvalue()


class ChunkedRequestSender(_Sender):
    """The client's side of a chunked request (draft §4, §6.1). Made by
    :func:`encapsulate_chunked_request`; :meth:`seal` and :meth:`finish` return wire bytes."""

    __slots__ = ("_ctx",)

    def __init__(self, header: bytes, ctx: SenderContext, chunk_size: int) -> None:
        super().__init__(header, chunk_size)
        self._ctx = ctx

    def _seal_one(self, chunk: bytes, aad: bytes) -> bytes:
        return self._ctx.seal(chunk, aad)  # §6.1: HPKE's sequence number orders chunks

    def __repr__(self) -> str:
        return f"ChunkedRequestSender(chunk_size={self._chunk_size}, finished={self._finished})"


class ChunkedResponseSender(_Sender):
    """The gateway's side of a chunked response (draft §5, §6.2): the response nonce, then
    chunks sealed under ``aead_nonce XOR counter``. Made by
    :meth:`ChunkedRequestReceiver.response_sender`."""

    __slots__ = ("_cipher", "_counter", "_n_n", "_nonce")

    def __init__(self, secret: _ResponseSecret, nonce: bytes | None, chunk_size: int) -> None:
        n = _nonce_len(secret.suite)
        if nonce is None:
            nonce = os.urandom(n)
        elif not isinstance(nonce, bytes) or len(nonce) != n:
            raise MisuseError(f"response nonce must be {n} bytes")
        super().__init__(nonce, chunk_size)
        self._cipher, base = secret._aead(nonce)
        self._nonce = int.from_bytes(base, "big")
        self._n_n = len(base)
        self._counter = 0

    def _seal_one(self, chunk: bytes, aad: bytes) -> bytes:
        if self._counter >= 1 << (8 * self._n_n):  # §6.2: fewer than 256^Nn chunks
            raise MisuseError("chunked response: chunk counter would wrap the nonce")
        nonce = (self._nonce ^ self._counter).to_bytes(self._n_n, "big")
        self._counter += 1
        return self._cipher.encrypt(nonce, chunk, aad)

    def __repr__(self) -> str:
        return f"ChunkedResponseSender(chunk_size={self._chunk_size}, finished={self._finished})"


# --- receiving ----------------------------------------------------------------


class _Receiver:
    """What both receivers share: the header, then varint-framed sealed chunks, then the
    final chunk (after a zero length) which runs to :meth:`end`.

    Between calls at most one sealed chunk is buffered: a length prefix over
    ``chunk_size`` plus the AEAD tag is refused before its bytes are held, and so is a
    final chunk that grows past it.
    """

    __slots__ = ("_buf", "_chunk_size", "_failed", "_final", "_have_header", "_state", "_total")

    def __init__(self, chunk_size: int) -> None:
        self._chunk_size = _check_chunk_size(chunk_size)
        self._buf = bytearray()
        self._have_header = False
        self._final = False  # the zero length prefix was read
        self._state = "open"  # "open", "complete" or "failed"
        self._total = 0

    @property
    def complete(self) -> bool:
        """True once :meth:`end` opened the final chunk: the whole message arrived (§7.1)."""
        return self._state == "complete"

    def _read_header(self) -> bool:
        """Consume the header from ``_buf`` if it is all there."""
        raise NotImplementedError  # pragma: no cover - each receiver defines it

    def _open_one(self, sealed: bytes, aad: bytes) -> bytes:
        raise NotImplementedError  # pragma: no cover - each receiver defines it

    def _tag_len(self) -> int:
        raise NotImplementedError  # pragma: no cover - each receiver defines it

    def _guard(self, what: str) -> None:
        if self._state == "failed":
            raise MisuseError(f"{what}: this receiver already refused the message")
        if self._state == "complete":
            raise MisuseError(f"{what}: the message is complete")

    def _plaintext(self, pt: bytes, final: bool) -> bytes:
        if not pt and not final:
            raise OpenError()  # §6: an empty non-final chunk is a decryption error
        self._total += len(pt)
        if self._total > OHTTP_CHUNKED_MAX_MESSAGE:
            raise DecodeError(f"chunked message over {OHTTP_CHUNKED_MAX_MESSAGE} bytes (§7.3)")
        return pt

    def _max_sealed(self) -> int:
        return self._chunk_size + self._tag_len()

    def _drain(self) -> list[bytes]:
        out: list[bytes] = []
        buf = self._buf
        if not self._have_header:
            if not self._read_header():
                return out
            self._have_header = True
        pos, end, limit = 0, len(buf), self._max_sealed()
        try:
            while not self._final and pos < end:
                size = 1 << (buf[pos] >> 6)  # RFC 9000 §16: the two high bits give the size
                if end - pos < size:
                    break
                n = int.from_bytes(buf[pos : pos + size], "big") & ((1 << (8 * size - 2)) - 1)
                if n == 0:  # §4/§5: the Final Chunk Indicator
                    pos += size
                    self._final = True
                    break
                if n > limit:
                    raise DecodeError(f"chunk length {n} over limit {limit}")
                if end - pos < size + n:
                    break
                sealed = bytes(buf[pos + size : pos + size + n])
                pos += size + n
                out.append(self._plaintext(self._open_one(sealed, b""), final=False))
        finally:
            del buf[:pos]  # one move per feed, however many chunks it completed
        if self._final and len(buf) > self._max_sealed():
            raise DecodeError(f"final chunk over limit {self._max_sealed()} bytes")
        return out

    def feed(self, data: bytes) -> list[bytes]:
        """Take the next wire bytes (any split); return the plaintext of every non-final
        chunk they complete, in order. Raises DecodeError, OpenError (and, for a request,
        UnknownKeyError or UnsupportedError); after any of them the receiver is failed."""
        self._guard("feed")
        self._buf += _as_bytes(data, "feed")
        try:
            return self._drain()
        except PrivprocError:
            self._fail()
            raise

    def end(self) -> bytes:
        """The stream ended: open the final chunk and return its plaintext (maybe empty).

        Raises :class:`TruncatedError` if the stream stopped before the final chunk's zero
        length (§7.1), OpenError if that chunk is not the authentic last one.
        """
        self._guard("end")
        try:
            if not self._final:
                raise TruncatedError("chunked message ended before its final chunk (§7.1)")
            sealed = bytes(self._buf)
            self._buf.clear()
            pt = self._plaintext(self._open_one(sealed, FINAL_AAD), final=True)
        except PrivprocError:
            self._fail()
            raise
        self._state = "complete"
        return pt

    def _fail(self) -> None:
        self._state = "failed"
        self._buf.clear()


class ChunkedRequestReceiver(_Receiver):
    """The gateway's side of a chunked request (draft §4, §6.1).

    ``server_keys`` is one key or every key currently active. The header is checked as
    in RFC 9458 §4.3 as soon as it is all fed: UnknownKeyError (refetch keys, §5.3),
    UnsupportedError, DecodeError or CryptoError.
    """

    __slots__ = ("_ctx", "_keys", "_secret")

    def __init__(
        self, server_keys: ServerKey | Iterable[ServerKey], *, chunk_size: int = OHTTP_CHUNK_SIZE
    ) -> None:
        super().__init__(chunk_size)
        self._keys = [server_keys] if isinstance(server_keys, ServerKey) else list(server_keys)
        if not all(isinstance(k, ServerKey) for k in self._keys):
            raise MisuseError("server_keys must be ServerKey values")
        self._ctx: RecipientContext | None = None
        self._secret: _ResponseSecret | None = None

    def _read_header(self) -> bool:
        buf = self._buf
        if len(buf) < _HEADER_LEN:
            return False
        r = Reader(bytes(buf[:_HEADER_LEN]))
        key, suite = _key_for_header(r, self._keys, "chunked request")
        end = _HEADER_LEN + suite.kem.n_enc
        if len(buf) < end:
            return False
        hdr, enc = bytes(buf[:_HEADER_LEN]), bytes(buf[_HEADER_LEN:end])
        del buf[:end]
        info = _REQUEST_LABEL + b"\x00" + hdr
        self._ctx = suite.setup_recipient(enc, key.private_key, info)
        secret = self._ctx.export(_RESPONSE_LABEL, _nonce_len(suite))
        self._secret = _ResponseSecret(suite, enc, secret)
        return True

    def _tag_len(self) -> int:
        assert self._secret is not None  # only called once the header is read
        return self._secret.suite.aead.n_t

    def _open_one(self, sealed: bytes, aad: bytes) -> bytes:
        assert self._ctx is not None  # only called once the header is read
        return self._ctx.open(sealed, aad)

    @property
    def has_header(self) -> bool:
        """True once the header is read: :meth:`response_sender` can be made."""
        return self._have_header

    def response_sender(
        self, *, nonce: bytes | None = None, chunk_size: int = OHTTP_CHUNK_SIZE
    ) -> ChunkedResponseSender:
        """The sender of this request's chunked response (§6.2). ``nonce`` fixes the
        response nonce (vectors only). Available once the header is read, before the
        request is complete (§7.2 explains what answering early reveals)."""
        if self._secret is None or self._state == "failed":
            raise MisuseError("response_sender: the request header has not been accepted")
        return ChunkedResponseSender(self._secret, nonce, chunk_size)

    def __repr__(self) -> str:
        return f"ChunkedRequestReceiver(state={self._state!r}, final={self._final})"


class ChunkedResponseReceiver(_Receiver):
    """The client's side of a chunked response (draft §5, §6.2). Made by
    :func:`encapsulate_chunked_request`; feed it the response body as it arrives."""

    __slots__ = ("_base", "_cipher", "_counter", "_secret")

    def __init__(self, secret: _ResponseSecret, chunk_size: int) -> None:
        super().__init__(chunk_size)
        self._secret = secret
        self._cipher: AESGCM | ChaCha20Poly1305 | None = None
        self._base = 0
        self._counter = 0

    def _read_header(self) -> bool:
        n = _nonce_len(self._secret.suite)
        if len(self._buf) < n:
            return False
        nonce = bytes(self._buf[:n])
        del self._buf[:n]
        self._cipher, base = self._secret._aead(nonce)
        self._base = int.from_bytes(base, "big")
        return True

    def _tag_len(self) -> int:
        return self._secret.suite.aead.n_t

    def _open_one(self, sealed: bytes, aad: bytes) -> bytes:
        assert self._cipher is not None  # only called once the nonce is read
        n_n = self._secret.suite.aead.n_n
        if self._counter >= 1 << (8 * n_n):  # §6.2: fewer than 256^Nn chunks
            raise DecodeError("chunked response: more chunks than the nonce allows")
        nonce = (self._base ^ self._counter).to_bytes(n_n, "big")
        try:
            pt = self._cipher.decrypt(nonce, sealed, aad)
        except (InvalidTag, ValueError, OverflowError):
            raise OpenError() from None
        self._counter += 1
        return pt

    def __repr__(self) -> str:
        return f"ChunkedResponseReceiver(state={self._state!r}, final={self._final})"


def encapsulate_chunked_request(
    config: KeyConfig,
    *,
    kdf: KDF | None = None,
    aead: AEAD | None = None,
    chunk_size: int = OHTTP_CHUNK_SIZE,
    ikm_e: bytes | None = None,
    sk_e: bytes | None = None,
) -> tuple[ChunkedRequestSender, ChunkedResponseReceiver]:
    """Start a chunked request to ``config`` (draft §6.1) and the receiver of its response.

    ``kdf``/``aead`` default to the first pair the configuration offers that we implement;
    ``chunk_size`` caps each chunk's plaintext both ways; ``ikm_e``/``sk_e`` fix the
    ephemeral key (test vectors only). Nothing is sealed until the sender is used.
    """
    if not isinstance(config, KeyConfig):
        raise MisuseError("config must be a KeyConfig")
    suite = config.hpke_suite(kdf, aead)
    hdr = _header(config.key_id, suite)
    info = _REQUEST_LABEL + b"\x00" + hdr
    enc, sctx = suite.setup_sender(config.public_key, info, ikm_e=ikm_e, sk_e=sk_e)
    secret = _ResponseSecret(suite, enc, sctx.export(_RESPONSE_LABEL, _nonce_len(suite)))
    return (
        ChunkedRequestSender(hdr + enc, sctx, chunk_size),
        ChunkedResponseReceiver(secret, chunk_size),
    )
