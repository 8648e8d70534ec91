"""Crash safety: kill -9 the ledger during a stream of appends; after a restart every
acknowledged entry is at its acknowledged index and the whole log audits clean.
Then ``privproc audit --follow`` checks consistency across a new checkpoint."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from privproc.errors import RemoteError
from privproc.ledger.tiles import decode_entry_bundle
from privproc.ledger_service.client import LedgerClient
from tests._servers import free_port
from tests.system._ledger_procs import (
    env,
    read_until_json_line,
    run_cli,
    start,
    stop,
    wait_for,
    wait_http,
)

pytestmark = pytest.mark.system


def _serve(tmp_path: Path, port: int, name: str) -> subprocess.Popen[bytes]:
    p = start(["ledger", "serve", "--port", str(port)], tmp_path, tmp_path / f"{name}.log")
    wait_http(f"http://127.0.0.1:{port}/checkpoint", p)
    return p


def test_kill_9_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    ledger = _serve(tmp_path, port, "first")
    acked: dict[int, bytes] = {}
    lock = threading.Lock()
    stop_flag = threading.Event()
    token = (tmp_path / "ledger" / "token").read_text().strip()

    def writer(w: int) -> None:
        with LedgerClient(url, token=token, timeout=5) as c:
            n = 0
            while not stop_flag.is_set():
                entry = b"writer %d entry %d" % (w, n)
                n += 1
                try:
                    index = c.add(entry)
                except RemoteError:
                    return  # the ledger is gone: this append was never acknowledged
                with lock:
                    acked[index] = entry

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    procs = [ledger]
    try:
        for t in threads:
            t.start()
        wait_for(lambda: len(acked) >= 150, "150 acknowledged appends", timeout=60)
        stop(ledger, hard=True)  # SIGKILL mid-stream
        stop_flag.set()
        for t in threads:
            t.join(timeout=15)
        assert not any(t.is_alive() for t in threads)
        assert len(acked) >= 150

        port2 = free_port()
        url2 = f"http://127.0.0.1:{port2}"
        ledger2 = _serve(tmp_path, port2, "second")
        procs.append(ledger2)
        with LedgerClient(url2) as c:
            size = int(c.checkpoint().decode().split("\n")[1])
            assert size >= max(acked) + 1
            tiles = c.fetch_tiles(size)
        stored: list[bytes] = []
        for ref in sorted((r for r in tiles if r.level == -1), key=lambda r: r.index):
            stored.extend(decode_entry_bundle(tiles[ref], ref.width))
        for index, entry in acked.items():
            assert stored[index] == entry, f"acknowledged entry {index} lost or moved"
        report = json.loads(run_cli(["audit", "--url", url2, "--json"], tmp_path).splitlines()[-1])
        assert report["ok"] is True
        assert report["size"] == size

        # audit --follow: a new append, a new checkpoint, checked consistent with the last.
        follower = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "privproc",
                "audit",
                "--url",
                url2,
                "--json",
                "--follow",
                "--interval",
                "0.2",
                "--rounds",
                "2",
            ],
            env=env(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            first = read_until_json_line(follower)  # its first round is done: now append
            with LedgerClient(url2, token=token) as c:
                assert c.add(b"after the crash") == size
            out, err = follower.communicate(timeout=60)
            out = first + out
        finally:
            if follower.poll() is None:
                follower.kill()
                follower.wait(timeout=10)
        assert follower.returncode == 0, err.decode()[-2000:]
        lines = [json.loads(x) for x in out.decode().splitlines() if x.startswith("{")]
        assert [x["size"] for x in lines] == [size, size + 1]
        assert lines[1]["consistent_with_size"] == size
    finally:
        stop_flag.set()
        for p in procs:
            stop(p)
