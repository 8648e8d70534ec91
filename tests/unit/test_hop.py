"""privproc._hop.HopTransport against real HTTP/1.1 peers on loopback sockets (issue 18).

Each peer is an asyncio server that writes exact bytes, so the framing cases (Content-Length,
chunked, close-delimited, truncated, an idle connection the server closed) are pinned."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import httpx
import pytest

from privproc._hop import HopTransport

Serve = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    return head, await reader.readexactly(length)


def _run(serve: Serve, client: Callable[[str], Awaitable[None]]) -> None:
    """Serve on a loopback port while ``client`` runs; then close every server side."""
    writers: list[asyncio.StreamWriter] = []
    handlers: list[asyncio.Task[None]] = []

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)
        await serve(reader, writer)

    async def main() -> None:
        server = await asyncio.start_server(tracked, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        try:
            await client(f"http://127.0.0.1:{port}")
        finally:
            server.close()
            await server.wait_closed()
            for task in handlers:
                task.cancel()
            await asyncio.gather(*handlers, return_exceptions=True)
            for writer in writers:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()

    asyncio.run(main())


def test_keep_alive_reuses_one_connection_and_sends_head_and_body() -> None:
    connections: list[int] = []
    seen: list[tuple[bytes, bytes]] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while True:
            try:
                head, body = await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            seen.append((head, body))
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
            await writer.drain()
        writer.close()

    async def client(url: str) -> None:
        async with httpx.AsyncClient(transport=HopTransport()) as c:
            for n in (1, 2, 3):
                r = await c.post(url + "/p?q=1", content=b"x" * n, headers={"x-a": "b"})
                assert r.status_code == 200
                assert r.content == b"x" * n

    _run(serve, client)
    assert len(connections) == 1
    head, body = seen[0]
    assert head.startswith(b"POST /p?q=1 HTTP/1.1\r\n")
    assert b"x-a: b\r\n" in head
    assert body == b"x"


def test_chunked_body_streams_then_the_connection_is_reused() -> None:
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n")
            await writer.drain()
            await asyncio.sleep(0.01)
            writer.write(b"2\r\nde\r\n0\r\n\r\n")
            await writer.drain()
        writer.close()

    async def client(url: str) -> None:
        async with httpx.AsyncClient(transport=HopTransport()) as c:
            for _ in range(2):
                request = c.build_request("GET", url + "/")
                response = await c.send(request, stream=True)
                chunks = [chunk async for chunk in response.aiter_bytes()]
                await response.aclose()
                assert b"".join(chunks) == b"abcde"

    _run(serve, client)
    assert len(connections) == 1


def test_a_body_delimited_by_the_close_ends_there_and_is_not_reused() -> None:
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it")
        await writer.drain()
        writer.close()

    async def client(url: str) -> None:
        async with httpx.AsyncClient(transport=HopTransport()) as c:
            for _ in range(2):
                r = await c.get(url + "/")
                assert r.content == b"all of it"

    _run(serve, client)
    assert len(connections) == 2


def test_a_truncated_body_is_an_error_not_a_short_answer() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort")
        await writer.drain()
        writer.close()

    async def client(url: str) -> None:
        async with httpx.AsyncClient(transport=HopTransport()) as c:
            with pytest.raises(httpx.RemoteProtocolError):
                await c.get(url + "/")

    _run(serve, client)


def test_bad_framing_is_a_protocol_error() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        writer.write(b"NOT HTTP AT ALL\r\n\r\n")
        await writer.drain()
        writer.close()

    async def client(url: str) -> None:
        async with httpx.AsyncClient(transport=HopTransport()) as c:
            with pytest.raises(httpx.RemoteProtocolError):
                await c.get(url + "/")

    _run(serve, client)


def test_an_idle_connection_the_server_closed_is_not_reused() -> None:
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        await _read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()  # keep-alive was promised, then the idle connection is closed

    async def client(url: str) -> None:
        async with httpx.AsyncClient(transport=HopTransport()) as c:
            assert (await c.get(url + "/")).content == b"ok"
            await asyncio.sleep(0.05)  # the FIN arrives
            assert (await c.get(url + "/")).content == b"ok"

    _run(serve, client)
    assert len(connections) == 2


def test_concurrent_requests_get_their_own_connections() -> None:
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        while True:
            try:
                await _read_request(reader)
            except asyncio.IncompleteReadError:
                break
            await asyncio.sleep(0.05)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\nk")
            await writer.drain()
        writer.close()

    async def client(url: str) -> None:
        async with httpx.AsyncClient(transport=HopTransport()) as c:
            answers = await asyncio.gather(*(c.get(url + "/") for _ in range(3)))
            assert [a.content for a in answers] == [b"k"] * 3
            await c.get(url + "/")  # reuses one of the three

    _run(serve, client)
    assert len(connections) == 3


def test_a_silent_peer_times_out() -> None:
    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _read_request(reader)
        await asyncio.sleep(2)
        writer.close()

    async def client(url: str) -> None:
        async with httpx.AsyncClient(transport=HopTransport(), timeout=0.2) as c:
            with pytest.raises(httpx.ReadTimeout):
                await c.get(url + "/")

    _run(serve, client)


def test_nobody_listening_is_a_connect_error() -> None:
    async def main() -> None:
        server = await asyncio.start_server(lambda _r, _w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        async with httpx.AsyncClient(transport=HopTransport()) as c:
            with pytest.raises(httpx.ConnectError):
                await c.get(f"http://127.0.0.1:{port}/")

    asyncio.run(main())
