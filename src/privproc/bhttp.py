"""Binary HTTP messages: RFC 9292 ("message/bhttp").

A :class:`Request` or :class:`Response` is an immutable value, checked when it is
made; :func:`encode` turns one into bytes in either framing (known-length,
RFC 9292 §3.1, or indeterminate-length, §3.2) with optional padding and
truncation (§3.8); :func:`decode` reads both framings back.

Rules this module enforces, on construction and on decode alike:

* field names are tokens (RFC 9110 §5.1) and lower-case on the wire (RFC 9292 §3.6
  via RFC 9113 §8.2.1). The constructors lower-case the names they are given; the
  decoder refuses a name with an upper-case letter, since RFC 9113 §8.2.1 makes such
  a message malformed and RFC 9292 §3.6 makes it invalid;
* field values hold no NUL, CR, LF or other control byte except HTAB, and do not
  start or end with SP or HTAB (RFC 9113 §8.2.1, RFC 9110 §5.5);
* the pseudo-fields ``:method``, ``:scheme``, ``:authority``, ``:path`` and
  ``:status`` never appear as field lines; other pseudo-fields only in header
  sections, before every regular field (RFC 9292 §3.6);
* request control data follows RFC 9113 §8.3.1 (RFC 9292 §3.4): the method is a
  token, the scheme is an RFC 3986 §3.1 scheme, the authority (possibly empty) uses
  RFC 3986 §3.2 characters and has no userinfo for ``http``/``https``, and the path
  is non-empty visible ASCII, starting with ``/`` (or ``*`` for ``OPTIONS``) for
  ``http``/``https``;
* informational status codes are 100-199 and final ones 200-599 (RFC 9292 §3.5).

Bad caller arguments raise :class:`~privproc.errors.MisuseError`; bad peer bytes
raise :class:`~privproc.errors.DecodeError` and nothing else. Every length a peer
controls is capped by :class:`Limits`. ``repr()`` of a message shows no header
values, path or content, so a message that reaches a log leaks no plaintext.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from privproc._wire import Reader, Writer
from privproc.errors import DecodeError, MisuseError, TruncatedError

__all__ = [
    "DEFAULT_LIMITS",
    "MEDIA_TYPE",
    "Fields",
    "Framing",
    "Informational",
    "Limits",
    "Request",
    "Response",
    "ResponseStream",
    "decode",
    "decode_request",
    "decode_response",
    "encode",
    "encode_chunk",
    "encode_end",
    "encode_response_head",
]

#: The media type of a binary HTTP message (RFC 9292 §7).
MEDIA_TYPE = "message/bhttp"

# Framing indicators (RFC 9292 §3.3).
_KNOWN_LENGTH_REQUEST = 0
_KNOWN_LENGTH_RESPONSE = 1
_INDETERMINATE_LENGTH_REQUEST = 2
_INDETERMINATE_LENGTH_RESPONSE = 3

# Status code ranges (RFC 9292 §3.5 and §3.5.1, RFC 9110 §15).
_INFORMATIONAL = range(100, 200)
_FINAL = range(200, 600)

#: Which framing :func:`encode` writes: RFC 9292 §3.1 ("known") or §3.2 ("indeterminate").
Framing = Literal["known", "indeterminate"]

#: A field section: (name, value) field lines in order, names lower-case (RFC 9292 §3.6).
Fields = tuple[tuple[bytes, bytes], ...]

# tchar (RFC 9110 §5.6.2), lower-case letters only: field names on the wire.
_FIELD_NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9a-z]+")
_UPPER = re.compile(rb"[A-Z]")
# RFC 9113 §8.2.1 forbids NUL, CR, LF; RFC 9110 §5.5 makes the other CTLs invalid too.
_BAD_VALUE_BYTE = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_EDGE_WHITESPACE = (b" ", b"\t")
# Pseudo-fields carried in control data instead (RFC 9292 §3.6).
_RESERVED_PSEUDO = frozenset({b":method", b":scheme", b":authority", b":path", b":status"})

# Control data (RFC 9292 §3.4, RFC 9113 §8.3.1).
_METHOD = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # token, RFC 9110 §9.1
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+\-.]*")  # RFC 3986 §3.1
_AUTHORITY = re.compile(r"[A-Za-z0-9\-._~%!$&'()*+,;=:\[\]@]*")  # RFC 3986 §3.2
_PATH = re.compile(r"[\x21-\x7e]+")  # visible ASCII: no space, CTL or DEL
_HTTP_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, slots=True)
class Limits:
    """Caps on what a peer's message may make :func:`decode` hold (RFC 9292 §8).

    Every length in a message is checked against one of these before the bytes
    are taken; going over raises :class:`~privproc.errors.DecodeError`.
    """

    #: Bytes in one encoded field section (header, trailer or informational).
    field_section: int = 64 * 1024
    #: Field lines in one field section (bounds the work per byte of input).
    field_lines: int = 1024
    #: Bytes of content (the sum of all chunks in indeterminate-length framing).
    content: int = 16 * 1024 * 1024
    #: Content chunks in indeterminate-length framing (bounds the work per byte).
    content_chunks: int = 65536
    #: Informational (1xx) responses before the final one.
    informational: int = 256
    #: Bytes in each of method, scheme, authority and path.
    control_field: int = 16 * 1024

    def __post_init__(self) -> None:
        for name in (
            "field_section",
            "field_lines",
            "content",
            "content_chunks",
            "informational",
            "control_field",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise MisuseError(f"Limits.{name} must be a non-negative int")


#: The limits :func:`decode` uses unless told otherwise.
DEFAULT_LIMITS = Limits()


def _as_bytes(value: object, what: str) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise MisuseError(f"{what} must be bytes, not {type(value).__name__}")


def _fields(value: object, what: str, *, trailers: bool = False) -> Fields:
    """Validate and normalize a field section (RFC 9292 §3.6); names are lower-cased."""
    if isinstance(value, str | bytes | bytearray | memoryview) or not isinstance(value, Iterable):
        raise MisuseError(f"{what} must be a sequence of (name, value) pairs")
    out: list[tuple[bytes, bytes]] = []
    regular_seen = False
    for item in value:
        if not isinstance(item, tuple | list) or len(item) != 2:
            raise MisuseError(f"{what}: each field line is a (name, value) pair")
        name = _as_bytes(item[0], f"{what} field name").lower()
        val = _as_bytes(item[1], f"{what} field value")
        token = name
        if name[:1] == b":":
            if trailers:
                raise MisuseError(f"{what}: pseudo-field in a trailer section (RFC 9292 §3.6)")
            if name in _RESERVED_PSEUDO:
                raise MisuseError(f"{what}: pseudo-field that belongs in control data")
            if regular_seen:
                raise MisuseError(f"{what}: pseudo-field after a regular field (RFC 9292 §3.6)")
            token = name[1:]
        else:
            regular_seen = True
        if _FIELD_NAME.fullmatch(token) is None:
            raise MisuseError(f"{what}: field name is not a token (RFC 9110 §5.1)")
        if _BAD_VALUE_BYTE.search(val) is not None:
            raise MisuseError(f"{what}: field value holds a control byte (RFC 9113 §8.2.1)")
        if val[:1] in _EDGE_WHITESPACE or val[-1:] in _EDGE_WHITESPACE:
            raise MisuseError(f"{what}: field value starts or ends with whitespace")
        out.append((name, val))
    return tuple(out)


def _text(value: object, what: str, pattern: re.Pattern[str]) -> str:
    if not isinstance(value, str):
        raise MisuseError(f"{what} must be str, not {type(value).__name__}")
    if pattern.fullmatch(value) is None:
        raise MisuseError(f"{what} is not valid (RFC 9292 §3.4, RFC 9113 §8.3.1)")
    return value


def _status(value: object, allowed: range, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise MisuseError(f"{what} must be int")
    if value not in allowed:
        raise MisuseError(
            f"{what} {value} not in {allowed.start}-{allowed.stop - 1} (RFC 9292 §3.5)"
        )
    return value


def _section_repr(fields: Fields) -> str:
    return f"<{len(fields)} fields>"


@dataclass(frozen=True, slots=True, repr=False)
class Request:
    """An HTTP request (RFC 9292 §3.4 control data, §3.6 fields, §3.7 content).

    ``authority`` may be empty (RFC 9292 §3.4: an omitted ``:authority`` is sent as
    a zero-length value). Header and trailer names are lower-cased on construction.
    """

    method: str
    scheme: str
    authority: str
    path: str
    headers: Fields = ()
    content: bytes = b""
    trailers: Fields = ()

    def __post_init__(self) -> None:
        _text(self.method, "method", _METHOD)
        scheme = _text(self.scheme, "scheme", _SCHEME)
        authority = _text(self.authority, "authority", _AUTHORITY)
        path = _text(self.path, "path", _PATH)
        if scheme.lower() in _HTTP_SCHEMES:
            if "@" in authority:
                raise MisuseError("authority has userinfo, not allowed for http(s)")
            if not (path.startswith("/") or (path == "*" and self.method == "OPTIONS")):
                raise MisuseError("path of an http(s) request starts with '/' (or is '*')")
        object.__setattr__(self, "headers", _fields(self.headers, "headers"))
        object.__setattr__(self, "content", _as_bytes(self.content, "content"))
        object.__setattr__(self, "trailers", _fields(self.trailers, "trailers", trailers=True))

    def __repr__(self) -> str:
        return (
            f"Request(method={self.method!r}, scheme={self.scheme!r}, "
            f"authority={self.authority!r}, path=<{len(self.path)} chars>, "
            f"headers={_section_repr(self.headers)}, content=<{len(self.content)} bytes>, "
            f"trailers={_section_repr(self.trailers)})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class Informational:
    """An informational (1xx) response that precedes the final one (RFC 9292 §3.5.1)."""

    status: int
    headers: Fields = ()

    def __post_init__(self) -> None:
        _status(self.status, _INFORMATIONAL, "informational status")
        object.__setattr__(self, "headers", _fields(self.headers, "informational headers"))

    def __repr__(self) -> str:
        return f"Informational(status={self.status}, headers={_section_repr(self.headers)})"


@dataclass(frozen=True, slots=True, repr=False)
class Response:
    """An HTTP response (RFC 9292 §3.5): final status 200-599, after any 1xx responses."""

    status: int
    headers: Fields = ()
    content: bytes = b""
    trailers: Fields = ()
    informational: tuple[Informational, ...] = ()

    def __post_init__(self) -> None:
        _status(self.status, _FINAL, "status")
        given: object = self.informational  # checked at run time, whatever the annotation
        if isinstance(given, str | bytes) or not isinstance(given, Iterable):
            raise MisuseError("informational must be a sequence of Informational")
        infos = tuple(given)
        if not all(isinstance(i, Informational) for i in infos):
            raise MisuseError("informational must be a sequence of Informational")
        object.__setattr__(self, "informational", infos)
        object.__setattr__(self, "headers", _fields(self.headers, "headers"))
        object.__setattr__(self, "content", _as_bytes(self.content, "content"))
        object.__setattr__(self, "trailers", _fields(self.trailers, "trailers", trailers=True))

    def __repr__(self) -> str:
        return (
            f"Response(status={self.status}, headers={_section_repr(self.headers)}, "
            f"content=<{len(self.content)} bytes>, trailers={_section_repr(self.trailers)}, "
            f"informational={[i.status for i in self.informational]})"
        )


# --- encoding -----------------------------------------------------------------


def _write_fields(w: Writer, fields: Fields, known: bool) -> None:
    """A field section: RFC 9292 §3.1 (length-prefixed) or §3.2 (zero-terminated)."""
    lines = Writer()
    for name, value in fields:
        lines.write_varint_vec(name).write_varint_vec(value)  # Field Line, §3.6
    if known:
        w.write_varint_vec(lines.getvalue())
    else:
        w.write_bytes(lines.getvalue()).write_varint(0)


def _write_content(w: Writer, content: bytes, known: bool) -> None:
    """Content: RFC 9292 §3.1 (length-prefixed) or §3.2 (chunks, then a zero)."""
    if known:
        w.write_varint_vec(content)
        return
    if content:
        w.write_varint_vec(content)  # one Indeterminate-Length Content Chunk
    w.write_varint(0)


def encode(
    msg: Request | Response,
    *,
    framing: Framing = "known",
    padding: int = 0,
    truncate: bool = False,
) -> bytes:
    """Encode ``msg`` as a binary HTTP message (RFC 9292 §3).

    ``framing`` picks known-length (§3.1) or indeterminate-length (§3.2) framing;
    indeterminate-length content goes in one chunk. ``padding`` appends that many
    zero bytes (§3.8). With ``truncate``, empty trailing sections are left out as
    §3.8 allows: empty trailers, then empty content, then an empty header section
    (the form of RFC 9458 Appendix A's ``0140c8``).
    """
    if framing not in ("known", "indeterminate"):
        raise MisuseError(f"framing must be 'known' or 'indeterminate', not {framing!r}")
    if not isinstance(padding, int) or isinstance(padding, bool) or padding < 0:
        raise MisuseError("padding must be a non-negative int")
    known = framing == "known"
    w = Writer()
    if isinstance(msg, Request):
        w.write_varint(_KNOWN_LENGTH_REQUEST if known else _INDETERMINATE_LENGTH_REQUEST)
        for part in (msg.method, msg.scheme, msg.authority, msg.path):  # §3.4
            w.write_varint_vec(part.encode("ascii"))
    elif isinstance(msg, Response):
        w.write_varint(_KNOWN_LENGTH_RESPONSE if known else _INDETERMINATE_LENGTH_RESPONSE)
        for info in msg.informational:  # §3.5.1
            w.write_varint(info.status)
            _write_fields(w, info.headers, known)
        w.write_varint(msg.status)  # §3.5
    else:
        raise MisuseError(f"cannot encode {type(msg).__name__} as binary HTTP")
    sections = 3
    if truncate and not msg.trailers:
        sections = 2
        if not msg.content:
            sections = 1
            if not msg.headers:
                sections = 0
    if sections >= 1:
        _write_fields(w, msg.headers, known)
    if sections >= 2:
        _write_content(w, msg.content, known)
    if sections >= 3:
        _write_fields(w, msg.trailers, known)
    if padding:
        w.write_bytes(bytes(padding))  # §3.8
    return w.getvalue()


# --- decoding -----------------------------------------------------------------


def _read_field_lines(r: Reader, what: str, limits: Limits, *, terminated: bool) -> Fields:
    """Field lines (RFC 9292 §3.6) until the reader ends or, if ``terminated``, a zero."""
    limit = limits.field_section
    start = r.position
    out: list[tuple[bytes, bytes]] = []
    while terminated or not r.at_end():
        n = r.read_varint(f"{what} name length")
        if n == 0:
            if terminated:  # Content Terminator ending the section, §3.2
                return tuple(out)
            raise DecodeError(f"{what}: empty field name (RFC 9292 §3.6)")
        if n > limit:
            raise DecodeError(f"{what}: field name length {n} over limit {limit}")
        name = r.read_bytes(n, f"{what} name")
        if _UPPER.search(name) is not None:
            raise DecodeError(f"{what}: upper-case field name (RFC 9292 §3.6, RFC 9113 §8.2.1)")
        value = r.read_varint_vec(f"{what} value", max_len=limit)
        if r.position - start > limit:
            raise DecodeError(f"{what}: section over limit {limit} bytes")
        if len(out) >= limits.field_lines:
            raise DecodeError(f"{what}: over limit {limits.field_lines} field lines")
        out.append((name, value))
    return tuple(out)


def _read_fields(r: Reader, known: bool, limits: Limits, what: str) -> Fields:
    """A field section in known-length (§3.1) or indeterminate-length (§3.2) framing."""
    if known:
        section = r.read_varint_vec(what, max_len=limits.field_section)
        return _read_field_lines(Reader(section), what, limits, terminated=False)
    return _read_field_lines(r, what, limits, terminated=True)


def _read_content(r: Reader, known: bool, limits: Limits) -> bytes:
    """Content in known-length (§3.1) or indeterminate-length (§3.2) framing."""
    if known:
        return r.read_varint_vec("content", max_len=limits.content)
    chunks: list[bytes] = []
    total = 0
    while True:
        n = r.read_varint("content chunk length")
        if n == 0:
            return b"".join(chunks)
        total += n
        if total > limits.content:
            raise DecodeError(f"content over limit {limits.content} bytes")
        if len(chunks) >= limits.content_chunks:
            raise DecodeError(f"content over limit {limits.content_chunks} chunks")
        chunks.append(r.read_bytes(n, "content chunk"))


def _read_control_text(r: Reader, what: str, limits: Limits) -> str:
    raw = r.read_varint_vec(what, max_len=limits.control_field)
    try:
        return raw.decode("ascii")
    except UnicodeDecodeError:
        raise DecodeError(f"{what}: not ASCII (RFC 9292 §3.4)") from None


def decode(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Request | Response:
    """Decode a binary HTTP message in either framing (RFC 9292 §3).

    Truncated trailing sections read as empty (RFC 9292 §3.8; §3.1 allows the
    message to end before any field-section or content length): a message may end
    after its control data, its header section or its content. Padding must be
    zero bytes (§3.8). Raises only :class:`~privproc.errors.DecodeError` for bad
    bytes (and :class:`~privproc.errors.MisuseError` for a non-bytes argument).
    """
    data = _as_bytes(data, "data")
    if not isinstance(limits, Limits):
        raise MisuseError("limits must be a Limits")
    r = Reader(data)
    indicator = r.read_varint("framing indicator")
    if indicator not in (0, 1, 2, 3):
        raise DecodeError(f"framing indicator {indicator} unknown (RFC 9292 §3.3)")
    known = indicator in (_KNOWN_LENGTH_REQUEST, _KNOWN_LENGTH_RESPONSE)
    is_request = indicator in (_KNOWN_LENGTH_REQUEST, _INDETERMINATE_LENGTH_REQUEST)
    control: tuple[str, str, str, str] | None = None
    informational: list[tuple[int, Fields]] = []
    status = 0
    if is_request:  # §3.4
        control = (
            _read_control_text(r, "method", limits),
            _read_control_text(r, "scheme", limits),
            _read_control_text(r, "authority", limits),
            _read_control_text(r, "path", limits),
        )
    else:  # §3.5, §3.5.1
        while True:
            status = r.read_varint("status code")
            if status in _FINAL:
                break
            if status not in _INFORMATIONAL:
                raise DecodeError(f"status code {status} not in 100-599 (RFC 9292 §3.5)")
            if len(informational) >= limits.informational:
                raise DecodeError(f"over {limits.informational} informational responses")
            informational.append(
                (status, _read_fields(r, known, limits, "informational header section"))
            )
    headers: Fields = ()
    content = b""
    trailers: Fields = ()
    if not r.at_end():  # each trailing part may be truncated away, §3.8
        headers = _read_fields(r, known, limits, "header section")
        if not r.at_end():
            content = _read_content(r, known, limits)
            if not r.at_end():
                trailers = _read_fields(r, known, limits, "trailer section")
                padding = r.read_rest()
                if padding.count(0) != len(padding):
                    raise DecodeError("non-zero padding (RFC 9292 §3.8)")
    try:
        if control is not None:
            method, scheme, authority, path = control
            return Request(method, scheme, authority, path, headers, content, trailers)
        infos = tuple(Informational(s, h) for s, h in informational)
        return Response(status, headers, content, trailers, infos)
    except MisuseError as exc:
        raise DecodeError(f"invalid message: {exc}") from None


def decode_request(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Request:
    """:func:`decode`, refusing anything but a request."""
    msg = decode(data, limits=limits)
    if not isinstance(msg, Request):
        raise DecodeError("expected a binary HTTP request, found a response")
    return msg


def decode_response(data: bytes, *, limits: Limits = DEFAULT_LIMITS) -> Response:
    """:func:`decode`, refusing anything but a response."""
    msg = decode(data, limits=limits)
    if not isinstance(msg, Response):
        raise DecodeError("expected a binary HTTP response, found a request")
    return msg


# --- incremental responses (RFC 9292 §3.2) ------------------------------------


def encode_response_head(status: int, headers: Iterable[tuple[bytes, bytes]] = ()) -> bytes:
    """The start of an indeterminate-length response (RFC 9292 §3.2): framing indicator 3,
    the final status and the header section; content follows as :func:`encode_chunk`
    pieces and :func:`encode_end` ends it. The message need not exist whole anywhere."""
    head = Response(status, headers=tuple(headers))  # checks status and fields
    w = Writer().write_varint(_INDETERMINATE_LENGTH_RESPONSE).write_varint(head.status)
    _write_fields(w, head.headers, known=False)
    return w.getvalue()


def encode_chunk(content: bytes) -> bytes:
    """One Indeterminate-Length Content Chunk (RFC 9292 §3.2); empty content is no chunk."""
    data = _as_bytes(content, "content")
    return Writer().write_varint_vec(data).getvalue() if data else b""


def encode_end() -> bytes:
    """The Content Terminator and an empty trailer section (RFC 9292 §3.2)."""
    return b"\x00\x00"


def _is_short(exc: DecodeError) -> bool:
    return "truncated" in str(exc)


class ResponseStream:
    """Decodes an indeterminate-length response (RFC 9292 §3.2) as its bytes arrive.

    :meth:`feed` takes bytes cut anywhere and returns the content bytes they carry, as
    they arrive (a chunk need not be whole); :attr:`head` is the status and header section
    once read. :meth:`end` raises :class:`~privproc.errors.TruncatedError` when the bytes
    stopped before the Content Terminator (a trailer section may be truncated, §3.8).
    Holds at most the header section (``limits.field_section``) and one varint.
    """

    __slots__ = ("_buf", "_chunk_left", "_content", "_limits", "_state", "head")

    def __init__(self, *, limits: Limits = DEFAULT_LIMITS) -> None:
        self._limits = limits
        self._buf = bytearray()
        self._state = "head"  # head, content, trailers
        self._chunk_left = 0
        self._content = 0
        #: The response's status and headers (no content), once read.
        self.head: Response | None = None

    def _parse_head(self, r: Reader) -> tuple[int, Fields]:
        if r.read_varint("framing indicator") != _INDETERMINATE_LENGTH_RESPONSE:
            raise DecodeError("response stream: not an indeterminate-length response")
        status = r.read_varint("status code")
        if status not in _FINAL:
            raise DecodeError(f"response stream: status {status} is not final")
        return status, _read_field_lines(r, "header section", self._limits, terminated=True)

    def _read_head(self) -> bool:
        r = Reader(bytes(self._buf[: self._limits.field_section + 64]))
        try:
            status, headers = self._parse_head(r)
        except DecodeError as exc:
            if _is_short(exc) and len(self._buf) <= self._limits.field_section:
                return False
            raise
        try:
            self.head = Response(status, headers)
        except MisuseError as exc:
            raise DecodeError(f"invalid message: {exc}") from None
        del self._buf[: r.position]
        return True

    def feed(self, data: bytes) -> list[bytes]:
        """The content bytes ``data`` carries (maybe none); DecodeError on bad bytes."""
        self._buf += _as_bytes(data, "data")
        if self._state == "head":
            if not self._read_head():
                return []
            self._state = "content"
        out: list[bytes] = []
        buf = self._buf
        while self._state == "content" and buf:
            if self._chunk_left:
                take = bytes(buf[: self._chunk_left])
                del buf[: len(take)]
                self._chunk_left -= len(take)
                out.append(take)
                continue
            size = 1 << (buf[0] >> 6)  # RFC 9000 §16
            if len(buf) < size:
                break
            n = int.from_bytes(bytes([buf[0] & 0x3F]) + bytes(buf[1:size]), "big")
            del buf[:size]
            if n == 0:
                self._state = "trailers"
                break
            self._content += n
            if self._content > self._limits.content:
                raise DecodeError(f"content over limit {self._limits.content} bytes")
            self._chunk_left = n
        if self._state == "trailers" and len(buf) > self._limits.field_section:
            raise DecodeError("trailer section over limit")
        return out

    def end(self) -> None:
        """The bytes ended: TruncatedError before the Content Terminator; the trailer
        section (possibly truncated, §3.8) and zero padding are checked."""
        if self._state != "trailers":
            raise TruncatedError("binary HTTP response ended before its content did (§3.2)")
        r = Reader(bytes(self._buf))
        if not r.at_end():
            _read_field_lines(r, "trailer section", self._limits, terminated=True)
            padding = r.read_rest()
            if padding.count(0) != len(padding):
                raise DecodeError("non-zero padding (RFC 9292 §3.8)")

    def __repr__(self) -> str:
        return f"ResponseStream(state={self._state!r})"
