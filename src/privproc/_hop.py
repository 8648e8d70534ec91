"""A lean httpx transport for the private path's internal hops (relay -> gateway, gateway -> node).

The issue 18 profiles (bench/profiles/relay.txt, gateway.txt) put the HTTP *client* at
the top of both hops: httpx's default transport (httpcore over anyio) costs about
1 ms of CPU per call on the development VM, more than the server side of the same
hop, and writes the request head and body in two sends. :class:`HopTransport` keeps
httpx's API for the callers (``client.post``, ``client.send(..., stream=True)``,
``aiter_bytes``) and replaces only what is under it: one keep-alive HTTP/1.1
connection per concurrent request over asyncio streams, the request written in one
send, the response parsed by httptools (llhttp, the parser the servers use).

Scope: plain ``http://`` only (loopback and in-cluster hops); anything else goes to
httpx's own transport, as does everything when a caller passes its own transport
(tests). Framing follows RFC 9112: a response body is delimited by Content-Length,
chunked coding or the connection's close (§6.3); a connection is reused only when
the response was read to its end and neither side asked to close (§9.3). Failures
raise httpx's own exceptions, so callers keep their ``except httpx.HTTPError``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httptools
import httpx

__all__ = ["HopTransport"]

_CHUNK = 1 << 16


class _Parsed:
    """httptools callbacks: the status line and headers, then body pieces."""

    __slots__ = ("body", "complete", "headers", "headers_done", "keep_alive", "parser")

    def __init__(self) -> None:
        self.headers: list[tuple[bytes, bytes]] = []
        self.headers_done = False
        self.body: list[bytes] = []
        self.complete = False
        #: Read when the message completes (llhttp resets it for the next message).
        self.keep_alive = False
        self.parser = httptools.HttpResponseParser(self)

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((bytes(name), bytes(value)))

    def on_headers_complete(self) -> None:
        self.headers_done = True

    def close_delimited(self) -> bool:
        """Neither Content-Length nor Transfer-Encoding: the body runs to the close."""
        names = {name.lower() for name, _ in self.headers}
        return b"content-length" not in names and b"transfer-encoding" not in names

    def on_body(self, body: bytes) -> None:
        self.body.append(bytes(body))

    def on_message_complete(self) -> None:
        self.complete = True
        self.keep_alive = self.parser.should_keep_alive()


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def usable(self) -> bool:
        return not (self.reader.at_eof() or self.writer.is_closing())

    def close(self) -> None:
        self.writer.close()


class _Body(httpx.AsyncByteStream):
    """The response body, read from the connection as the caller iterates."""

    def __init__(
        self,
        transport: HopTransport,
        *,
        key: tuple[str, int],
        conn: _Conn,
        parser: httptools.HttpResponseParser,
        parsed: _Parsed,
        read_timeout: float | None,
    ) -> None:
        self._transport, self._key, self._conn = transport, key, conn
        self._parser, self._parsed, self._timeout = parser, parsed, read_timeout
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        parsed = self._parsed
        while True:
            if parsed.body:
                pieces, parsed.body = parsed.body, []
                yield b"".join(pieces)
            if parsed.complete:
                return
            if not await _feed(self._conn, self._parser, self._timeout):
                if parsed.close_delimited():
                    return  # RFC 9112 §6.3 item 8: the close ends the body (not reused)
                raise httpx.RemoteProtocolError("the peer closed in the middle of the body")

    async def aclose(self) -> None:
        if self._done:
            return
        self._done = True
        if self._parsed.complete and self._parsed.keep_alive and self._conn.usable():
            self._transport._release(self._key, self._conn)
        else:
            self._conn.close()


async def _feed(conn: _Conn, parser: httptools.HttpResponseParser, timeout: float | None) -> bool:
    """Read once from ``conn`` into ``parser``: False at EOF; httpx errors on timeout or
    bad framing."""
    try:
        async with asyncio.timeout(timeout):
            data = await conn.reader.read(_CHUNK)
    except TimeoutError:
        raise httpx.ReadTimeout("the peer did not answer in time") from None
    except OSError as exc:
        raise httpx.ReadError(type(exc).__name__) from None
    if not data:
        return False
    try:
        parser.feed_data(data)
    except httptools.HttpParserError as exc:
        raise httpx.RemoteProtocolError(f"bad HTTP/1.1 response: {type(exc).__name__}") from None
    return True


async def _exchange(
    conn: _Conn,
    data: bytes,
    parser: httptools.HttpResponseParser,
    parsed: _Parsed,
    timeouts: dict[str, float],
) -> None:
    """Send the whole request in one write, then read until the response head is parsed."""
    try:
        conn.writer.write(data)
        async with asyncio.timeout(timeouts.get("write")):
            await conn.writer.drain()
    except TimeoutError:
        raise httpx.WriteTimeout("write timed out") from None
    except OSError as exc:
        raise httpx.WriteError(type(exc).__name__) from None
    while not parsed.headers_done:
        if not await _feed(conn, parser, timeouts.get("read")):
            raise httpx.RemoteProtocolError("the peer closed before answering")


class HopTransport(httpx.AsyncBaseTransport):
    """Keep-alive HTTP/1.1 for ``http://`` hops (module docstring); ``max_idle`` pooled
    connections per host are kept for reuse."""

    def __init__(self, *, max_idle: int = 32) -> None:
        self._idle: dict[tuple[str, int], list[_Conn]] = {}
        self._max_idle = max_idle
        self._fallback: httpx.AsyncHTTPTransport | None = None  # made on first https use

    def _release(self, key: tuple[str, int], conn: _Conn) -> None:
        idle = self._idle.setdefault(key, [])
        if len(idle) < self._max_idle:
            idle.append(conn)
        else:
            conn.close()

    async def _connect(self, key: tuple[str, int], timeout: float | None) -> _Conn:
        idle = self._idle.get(key, [])
        while idle:
            conn = idle.pop()
            if conn.usable():
                return conn
            conn.close()
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(key[0], key[1], limit=_CHUNK)
        except TimeoutError:
            raise httpx.ConnectTimeout("connect timed out") from None
        except OSError as exc:
            raise httpx.ConnectError(type(exc).__name__) from None
        return _Conn(reader, writer)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme != "http":
            if self._fallback is None:
                self._fallback = httpx.AsyncHTTPTransport()
            return await self._fallback.handle_async_request(request)
        timeouts = request.extensions.get("timeout", {})
        key = (url.host, url.port or 80)
        body = await request.aread()
        head = [request.method.encode("ascii"), b" ", url.raw_path, b" HTTP/1.1\r\n"]
        for name, value in request.headers.raw:
            head += [name, b": ", value, b"\r\n"]
        head.append(b"\r\n")
        conn = await self._connect(key, timeouts.get("connect"))
        parsed = _Parsed()
        parser = parsed.parser
        try:
            await _exchange(conn, b"".join(head) + body, parser, parsed, timeouts)
        except BaseException:
            conn.close()
            raise
        stream = _Body(
            self,
            key=key,
            conn=conn,
            parser=parser,
            parsed=parsed,
            read_timeout=timeouts.get("read"),
        )
        return httpx.Response(
            parser.get_status_code(),
            headers=parsed.headers,
            stream=stream,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()
        if self._fallback is not None:
            await self._fallback.aclose()
