"""Replicas behind HAProxy, for real (issue 16 item 4): 3 gateways, 2 issuers, Redis and
the ledger on PostgreSQL, over loopback sockets.

One cluster for the module, started as a user would (``privproc up --gateways 3
--issuers 2 --redis URL --ledger-database URL``, whose supervision restarts a killed
replica); Redis with an append-only file, so that it can be stopped and started again on
its port with its data.
Gateway keys are current for 24 s and announced 12 s ahead, so the key sequence rotates
while the tests load it. The tests run in file order and share the cluster.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis

from privproc import ohttp
from privproc.client.config import ClientConfig
from privproc.client.sdk import Device
from privproc.client.session import open_device
from privproc.errors import RemoteError
from privproc.workloads.chat import Chat
from tests._postgres import running_postgres
from tests._servers import free_port
from tests.system._procs import FAMILY_CHAT, start_up, up_endpoints

pytestmark = pytest.mark.system

LIFETIME, ANNOUNCE = 24, 12
GATEWAYS = ("gateway-1", "gateway-2", "gateway-3")
CHAT = Chat.from_json(FAMILY_CHAT)


class _Redis:
    """A real redis-server with an append-only file, which a test can stop and start."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed (make services)")
        self.folder, self.port, self.binary = folder, free_port(), binary
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir",
                str(self.folder), "--appendonly", "yes", "--appendfsync", "always",
                "--save", ""]  # fmt: skip
        with (self.folder / "redis.log").open("ab") as log:
            self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@dataclasses.dataclass
class World:
    parties: dict[str, str]
    home: Path
    config: ClientConfig
    redis: _Redis
    #: What ``privproc up`` printed, line by line (its supervision reports).
    output: list[str]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("replicas")
    store = _Redis(base)
    store.start()
    output: list[str] = []
    try:
        with running_postgres() as pg:
            home = base / "home"
            up = start_up(
                home,
                "--nodes", "2", "--gateways", "3", "--issuers", "2",
                "--redis", store.url, "--ledger-database", pg.new_database(),
                "--gateway-key-lifetime", str(LIFETIME),
                "--gateway-key-announce", str(ANNOUNCE),
                "--cosignature-max-age", "6", "--cosignature-max-skew", "1",
            )  # fmt: skip
            try:
                parties = up_endpoints(up)["parties"]

                def drain() -> None:
                    assert up.stdout is not None
                    for line in up.stdout:
                        output.append(line.decode(errors="replace"))

                reader = threading.Thread(target=drain, daemon=True)
                reader.start()
                config = ClientConfig.load(home / "client" / "config.json")
                yield World(parties, home, config, store, output)
            finally:
                os.killpg(up.pid, signal.SIGINT)
                up.wait(60)
                if up.stdout is not None:
                    up.stdout.close()
    finally:
        store.stop()


def _device(world: World, name: str) -> Device:
    home = world.home / "devices" / name
    home.mkdir(parents=True, exist_ok=True)
    config = dataclasses.replace(world.config, account=f"acct-{name}")
    (home / "config.json").write_text(config.dumps())
    return open_device(home)


def _spent(world: World) -> int:
    client = redis.Redis.from_url(world.redis.url)
    return sum(1 for _ in client.scan_iter(match=b"privproc:spent:*", count=1000))


def _keys_of(world: World, party: str) -> bytes:
    return httpx.get(world.parties[party] + "/ohttp-keys", timeout=5).content


def _served(world: World, parties: tuple[str, ...]) -> dict[str, bytes]:
    """Each party's /ohttp-keys, fetched within one clock second (replicas switch their
    listing at whole seconds; a sample straddling one would compare two seconds)."""
    while True:
        second = int(time.time())
        served = {party: _keys_of(world, party) for party in parties}
        if int(time.time()) == second:
            return served


def test_up_lists_replicas_and_balancers(world: World) -> None:
    names = {"gateway", *GATEWAYS, "issuer", "issuer-1", "issuer-2"}
    assert names <= set(world.parties)
    # The device and the directory know only the balancers' public URLs.
    assert world.config.issuer_url == world.parties["issuer"]
    nodes = httpx.get(world.parties["directory"] + "/nodes", timeout=5).json()
    assert nodes["key_configs"]
    for name in names - {"gateway", "issuer"}:
        pid = int((world.home / name / "pid").read_text())
        os.kill(pid, 0)  # alive, in its own folder
    cfg = (world.home / "gateway" / "haproxy.cfg").read_text()
    assert all(f"server {g} " in cfg for g in GATEWAYS)


def test_every_replica_serves_byte_identical_keys(world: World) -> None:
    served = _served(world, (*GATEWAYS, "gateway"))
    assert len(set(served.values())) == 1, served
    assert ohttp.decode_list(served["gateway"])  # not empty
    pids = {(world.home / g / "pid").read_text() for g in GATEWAYS}
    assert len(pids) == 3  # each replica its own process and pid file
    directories = {
        httpx.get(world.parties[i] + "/.well-known/private-token-issuer-directory").json()[
            "token-keys"
        ][0]["token-key"]
        for i in ("issuer-1", "issuer-2")
    }
    assert len(directories) == 1  # the issuers sign with one key


def test_kill_a_gateway_replica_under_load(world: World) -> None:
    """kill -9 one replica while summaries run: the balancer (connection failures) and
    the device's one retry with a fresh token (a request the dead replica had taken)
    carry every request; none is lost; every spent token is spent once."""
    total, workers = 9, 3
    devices = [_device(world, f"load-{i}") for i in range(workers)]
    before = _spent(world)
    done = threading.Event()
    started = threading.Semaphore(0)

    def one(i: int) -> int:
        started.release()
        answer = devices[i % workers].summarize(CHAT)
        return answer.report.key_config_id

    victim = world.home / "gateway-2" / "pid"
    old = int(victim.read_text())
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = [pool.submit(one, i) for i in range(total)]
        for _ in range(workers + 1):
            started.acquire()
        os.kill(old, signal.SIGKILL)
        results = [f.result(timeout=120) for f in futures]
    done.set()
    for d in devices:
        d.close()
    assert len(results) == total
    spent = _spent(world) - before
    # Each success spent its own token; a retry after the kill spent at most one more each.
    assert total <= spent <= total + workers
    deadline = time.monotonic() + 60
    while int(victim.read_text()) == old and time.monotonic() < deadline:
        time.sleep(0.2)
    assert any("gateway-2 exited (code -9)" in line for line in world.output)
    # The restarted replica loads the shared sequence: it serves the same keys again.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if len(set(_served(world, GATEWAYS).values())) == 1:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    assert len(set(_served(world, GATEWAYS).values())) == 1


def test_redis_down_fails_closed_then_serves_again(world: World) -> None:
    with _device(world, "outage") as device:
        device.summarize(CHAT)  # verified and holding tokens before the outage
        world.redis.stop()
        try:
            with pytest.raises(RemoteError) as caught:
                device.summarize(CHAT)
            assert caught.value.status == 503
            assert caught.value.problem == "store-unavailable"
        finally:
            world.redis.start()
        deadline = time.monotonic() + 30
        while True:
            try:
                device.summarize(CHAT)
                break
            except RemoteError:
                assert time.monotonic() < deadline, "no service after Redis came back"
                time.sleep(0.5)


def test_rotation_under_load(world: World) -> None:
    """Summaries for longer than a key's lifetime: the sequence rotates once for all
    replicas and no request fails for it. Devices that verified before the switch keep
    their (still valid) config; a device that verifies after it uses the new current one,
    and devices never go back to an older config (every replica serves the same sequence)."""
    used: list[int] = []
    fresh: list[int] = []
    failures: list[BaseException] = []
    end = time.monotonic() + LIFETIME + 4

    def run(name: str) -> None:
        with _device(world, name) as device:
            while time.monotonic() < end:
                try:
                    used.append(device.summarize(CHAT).report.key_config_id)
                except RemoteError as exc:  # pragma: no cover - the assertion reports it
                    failures.append(exc)
                # Paced under the relay's per-address rate (20/s: every device here is
                # 127.0.0.1): the test is about rotation, not about the relay's limit.
                time.sleep(0.15)

    def newcomers() -> None:
        i = 0
        while time.monotonic() < end:
            i += 1
            with _device(world, f"newcomer-{i}") as device:
                try:
                    fresh.append(device.summarize(CHAT).report.key_config_id)
                except RemoteError as exc:  # pragma: no cover - the assertion reports it
                    failures.append(exc)
            time.sleep(2)

    threads = [threading.Thread(target=run, args=(f"rotate-{i}",)) for i in range(2)]
    threads.append(threading.Thread(target=newcomers))
    for t in threads:
        t.start()
    for t in threads:
        t.join(LIFETIME + 120)
    assert failures == []
    assert used
    assert len(set(fresh)) >= 2, f"no rotation during the load: {fresh}"
    assert fresh == sorted(fresh), f"a device went back to an older config: {fresh}"
    assert len(set(_served(world, (*GATEWAYS, "gateway")).values())) == 1
