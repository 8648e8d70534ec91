"""Issue 12 item 9: framing errors refused by the HTTP server itself (uvicorn's HTTP
parser, httptools since issue 18, before any app code runs) answer ``400`` in
``text/plain`` with a fixed body, not problem JSON; this pins that documented behaviour
and that nothing of the request comes back (docs/e2e.md, "Errors")."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests._servers import free_port
from tests.system._procs import spawn, stop, wait_http

pytestmark = pytest.mark.system

CANARY = b"CANARY-framing-51c2"


def _raw(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        out = b""
        while chunk := s.recv(4096):
            out += chunk
        return out


def test_framing_errors_are_plain_400_and_echo_nothing(tmp_path: Path) -> None:
    port = free_port()
    relay = spawn(
        ["relay", "--gateway", "http://127.0.0.1:9/gateway", "--port", str(port)],
        log=tmp_path / "relay.log",
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", relay)
        for bad in (
            b"NOT HTTP " + CANARY + b"\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + CANARY + b"\r\n\r\n",
            b"POST / HTTP/1.1\r\nHost: x\r\nno colon " + CANARY + b"\r\n\r\n",
        ):
            answer = _raw(port, bad)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 400 ")
            assert b"content-type: text/plain" in head.lower()
            assert CANARY not in answer
            assert body in {b"", b"Invalid HTTP request received."}
    finally:
        stop(relay)
    assert CANARY not in (tmp_path / "relay.log").read_bytes()
