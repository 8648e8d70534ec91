"""Gateway replicas (issue 16): private-path throughput and server CPU per request with 1
and 3 gateway replicas on the same cores, and Redis redemptions next to raw SET NX.

What runs: twice a real cluster (``Cluster`` with ``redis_url``: witnesses, ledger, one
issuer, 2 enclave nodes, the gateway replicas sharing one key sequence in a real Redis,
HAProxy in front of them, directory, relay; each its own process on loopback), first with
1 gateway replica, then with 3, both behind HAProxy so the only change is the replica
count. 4 devices send the ``trivial`` summary (no unread message: the private path's own
cost, bench/e2e.py) concurrently, tokens fetched before the timed loop.

Figures:

1. throughput with 3 replicas next to 1 (the machine's cores are shared: more replicas
   cannot add CPU, so the ratio says what the extra processes cost or save);
2. server CPU per request (relay + HAProxy + every gateway replica + nodes with their
   reaped per-request children, from /proc, minus the idle rate measured just before)
   with 3 replicas next to 1: it must not grow with replicas;
3. redemptions per second through the Redis spent store (RFC 9578 token verify + ``SET
   NX PXAT``, what a gateway does per request) and the store's spend alone, each next to
   the raw ``SET NX PXAT`` rate of redis-py on the same server in the same run.

Nothing here asserts a time.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from _common import Row, rate, row
from e2e import _concurrent, _cpu_of, _device, _idle_rate, _workload
from privproc.cluster.launch import Cluster, ClusterSpec
from privproc.stores.spent import RedisSpentStore
from privproc.tokens import issuance
from privproc.tokens.blind_rsa import PrivateKey
from privproc.tokens.redeem import Redeemer
from tokens import CHALLENGE, _redis, _tokens

BENCH = "replicas"
DEVICES = 4
PER_DEVICE = 8
REDEEM_TOKENS = 1500


def _server_pids(cluster: Cluster) -> dict[str, int]:
    names = [n for n in cluster.parties if n == "relay" or n.startswith(("gateway", "enclave"))]
    return {n: cluster.parties[n].process.pid for n in names}


def _private_path(root: Path, redis_url: str, gateways: int) -> tuple[float, float, int]:
    """(requests/s, server CPU s per request, requests) with ``gateways`` replicas."""
    spec = ClusterSpec(nodes=2, k=2, gateways=gateways, issuers=1, redis_url=redis_url)
    chat = _workload("trivial")
    with Cluster(root / f"cluster-{gateways}", spec) as cluster:
        config = cluster.start()
        homes = root / f"devices-{gateways}"
        homes.mkdir()
        devices = [_device(config, homes, i, PER_DEVICE + 1) for i in range(DEVICES)]
        for d in devices:
            d.summarize(chat)  # verified, connections warm
        pids = _server_pids(cluster)
        idle = _idle_rate(pids)
        before = sum(_cpu_of(pids).values())
        _lat, wall = _concurrent(
            [lambda d=d: d.summarize(chat) for d in devices],  # type: ignore[misc]
            PER_DEVICE,
        )
        used = sum(_cpu_of(pids).values()) - before - idle * wall
        for d in devices:
            d.close()
    n = DEVICES * PER_DEVICE
    return n / wall, max(used, 0.0) / n, n


def _redis_rows(url: str) -> list[Row]:
    import redis

    client = redis.Redis.from_url(url)
    counter = iter(range(10**9))

    def raw() -> None:
        key = b"bench:raw:%d" % next(counter)
        client.set(key, b"1", nx=True, pxat=int((time.time() + 600) * 1000))

    store = RedisSpentStore(url, prefix="bench:spent:")

    def spend() -> None:
        key = os.urandom(32)
        now = time.time()
        store.spend(key, expires_at=now + 600, now=now)

    # Alternated, best of 3 each: a burst of load from elsewhere hits both.
    raws, spends = [], []
    for _ in range(3):
        raws.append(rate(raw, min_time=0.5))
        spends.append(rate(spend, min_time=0.5))
    raw_rate, spend_rate = max(raws), max(spends)
    pair = issuance.IssuerKeyPair.from_private_key(PrivateKey.generate())
    tokens = _tokens(pair, REDEEM_TOKENS)
    redeemer = Redeemer((pair.token_key,), (CHALLENGE,), store)
    redeemer.redeem(tokens[0], now=time.time())  # warm
    start = time.perf_counter()
    for token in tokens[1:]:
        redeemer.redeem(token, now=time.time())
    redeem_rate = (len(tokens) - 1) / (time.perf_counter() - start)
    store.close()
    client.close()
    return [
        row(
            BENCH,
            "redemptions, Redis spent store (verify + SET NX PXAT)",
            redeem_rate,
            "tokens/s",
            "raw SET NX PXAT (redis-py, same server)",
            raw_rate,
            "one caller, loopback",
        ),
        row(
            BENCH,
            "spends, Redis spent store alone",
            spend_rate,
            "spends/s",
            "raw SET NX PXAT (redis-py, same server)",
            raw_rate,
            "one caller, loopback; best of 3 alternated runs each",
        ),
    ]


def run() -> list[Row]:
    rows: list[Row] = []
    with _redis() as url, tempfile.TemporaryDirectory(prefix="privproc-replicas-") as tmp:
        if url is None:
            return rows
        root = Path(tmp)
        base = url.rsplit("/", 1)[0]
        one_rate, one_cpu, n = _private_path(root, base + "/1", 1)
        three_rate, three_cpu, _ = _private_path(root, base + "/2", 3)
        note = f"{DEVICES} devices x {PER_DEVICE} trivial summaries, {os.cpu_count()} cores"
        rows.append(
            row(
                BENCH,
                "private path, 3 gateway replicas",
                three_rate,
                "req/s",
                "1 gateway replica, same run",
                one_rate,
                note,
            )
        )
        rows.append(
            row(
                BENCH,
                "server CPU per request, 3 gateway replicas",
                three_cpu * 1000,
                "ms",
                "1 gateway replica, same run",
                one_cpu * 1000,
                f"relay + HAProxy + gateways + nodes (children), idle subtracted; {n} requests",
            )
        )
        rows += _redis_rows(base + "/3")
    return rows


if __name__ == "__main__":
    for r in run():
        print(f"{r.name:55s} {r.value:10.2f} {r.unit:8s} {r.baseline_name}: {r.baseline:.2f}")
