"""Chunked OHTTP (draft-ietf-ohai-chunked-ohttp-08) next to RFC 9458 OHTTP, same bytes.

- ``chunked round trip, N each way``: a client seals an N-byte request in 16 KiB chunks
  (``ChunkedRequestSender``), the gateway opens it fed in 4 KiB reads
  (``ChunkedRequestReceiver``), seals an N-byte response in chunks and the client opens
  it; baseline: ``encapsulate_request`` / ``decapsulate_request`` / ``seal`` / ``open`` of
  the same N bytes each way. Figure and baseline in MB/s of plaintext (both directions).
- ``streamed response``: what item 2 will do, an answer written as it is generated: 500
  pieces of 32 bytes, each sealed and opened as its own chunk, against one non-chunked
  response of the same 16000 bytes (the request context is set up once, outside the
  timing).

X25519, HKDF-SHA256, AES-128-GCM. Each figure keeps its best of two interleaved rounds.
"""

from __future__ import annotations

from collections.abc import Callable

from _common import Row, rate, row
from privproc import ohttp
from privproc import ohttp_chunked as oc

READ = 4096  # the gateway's and the client's socket reads


def _reads(data: bytes) -> list[bytes]:
    return [data[i : i + READ] for i in range(0, len(data), READ)]


def _pair(key: ohttp.ServerKey, body: bytes) -> tuple[Callable[[], None], Callable[[], None]]:
    def chunked() -> None:
        sender, client = oc.encapsulate_chunked_request(key.config)
        wire = sender.finish(body)
        server = oc.ChunkedRequestReceiver(key)
        for piece in _reads(wire):
            server.feed(piece)
        server.end()
        res = server.response_sender().finish(body)
        for piece in _reads(res):
            client.feed(piece)
        client.end()

    def plain() -> None:
        enc_req, client = ohttp.encapsulate_request(key.config, body)
        _, server = ohttp.decapsulate_request(key, enc_req)
        client.open(server.seal(body))

    return chunked, plain


def _stream(key: ohttp.ServerKey) -> tuple[Callable[[], None], Callable[[], None]]:
    pieces = [bytes([65 + i % 26]) * 32 for i in range(500)]
    whole = b"".join(pieces)
    sender, _ = oc.encapsulate_chunked_request(key.config)
    server = oc.ChunkedRequestReceiver(key)
    server.feed(sender.finish(b"q"))
    server.end()
    secret = server._secret  # each timed response needs a fresh receiver of this secret
    assert secret is not None
    enc_req, plain_client = ohttp.encapsulate_request(key.config, b"q")
    _, plain_server = ohttp.decapsulate_request(key, enc_req)

    def chunked() -> None:
        res = server.response_sender()
        client = oc.ChunkedResponseReceiver(secret, 16384)
        for p in pieces:
            client.feed(res.seal(p))
        client.feed(res.finish())
        client.end()

    def plain() -> None:
        plain_client.open(plain_server.seal(whole))

    return chunked, plain


def run() -> list[Row]:
    key = ohttp.ServerKey.generate(1)
    sizes = {"1 KiB": 1024, "64 KiB": 65536, "1 MiB": 1 << 20}
    fns: dict[str, Callable[[], None]] = {}
    for label, n in sizes.items():
        fns[f"chunked {label}"], fns[f"plain {label}"] = _pair(key, bytes(range(256)) * (n // 256))
    fns["chunked stream"], fns["plain stream"] = _stream(key)
    best = dict.fromkeys(fns, 0.0)
    for _ in range(2):
        for name, fn in fns.items():
            best[name] = max(best[name], rate(fn, min_time=0.4))
    rows = []
    for label, n in sizes.items():
        mb = 2 * n / 1e6  # request and response
        rows.append(
            row(
                "ohttp_chunked",
                f"chunked round trip, {label} each way (16 KiB chunks, 4 KiB reads)",
                best[f"chunked {label}"] * mb,
                "MB/s",
                f"RFC 9458 round trip, {label} each way",
                best[f"plain {label}"] * mb,
                "plaintext bytes both ways per second",
            )
        )
    rows.append(
        row(
            "ohttp_chunked",
            "streamed response: 500 chunks of 32 bytes sealed + opened",
            best["chunked stream"],
            "responses/s",
            "one RFC 9458 response of the same 16000 bytes",
            best["plain stream"],
            "per-chunk cost of streaming an answer",
        )
    )
    return rows
