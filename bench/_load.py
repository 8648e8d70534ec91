"""A load generator that is not the bottleneck: keep-alive clients in their own processes.

``bench/ledger.py``'s HTTP figures used to come from 16 ``httpx.Client`` threads in
the bench process: at 1.2-1.6 ms of client CPU per request under one GIL, the
clients, not the server, set the rate (96 GET /checkpoint per second in the same run
that served 650/s to cheap clients; issue 18). Here each client is a process with one
keep-alive ``http.client`` connection (its request line, headers and body leave in one
``send``, so Nagle and delayed ACKs do not add a wait); all start together behind a
barrier, and the rate is requests over the span from the first start to the last end.
"""

from __future__ import annotations

import http.client
import multiprocessing as mp
import time
from multiprocessing.synchronize import Barrier
from urllib.parse import urlsplit

__all__ = ["keepalive_rate"]


def _client(
    url: str,
    method: str,
    path: str,
    body: bytes | None,
    headers: dict[str, str],
    per: int,
    barrier: Barrier,
    out: mp.Queue[tuple[float, float, int]],
) -> None:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    conn.connect()
    barrier.wait()
    start, failed = time.perf_counter(), 0
    for _ in range(per):
        conn.request(method, path, body=body, headers=headers)
        answer = conn.getresponse()
        answer.read()
        failed += answer.status != 200
    out.put((start, time.perf_counter(), failed))
    conn.close()


def keepalive_rate(
    url: str,
    path: str,
    *,
    clients: int,
    per: int,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> float:
    """Requests per second that ``clients`` keep-alive processes get, ``per`` each.

    ``body`` makes it a POST. Raises RuntimeError when any request was not a 200."""
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(clients)
    out: mp.Queue[tuple[float, float, int]] = ctx.Queue()
    method = "GET" if body is None else "POST"
    procs = [
        ctx.Process(
            target=_client, args=(url, method, path, body, headers or {}, per, barrier, out)
        )
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join()
    failed = sum(r[2] for r in results)
    if failed:
        raise RuntimeError(f"{failed} of {clients * per} requests to {path} failed")
    span = max(r[1] for r in results) - min(r[0] for r in results)
    return clients * per / span
