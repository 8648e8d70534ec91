"""Ledger + 2 witnesses as real processes on loopback; the device verifier checks records.

Also: a forked ledger (same key, other entries) gets no cosignature, and a device that
saw the honest log refuses the fork.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.errors import ForkError, LedgerError
from privproc.ledger.checkpoint import open_checkpoint
from privproc.ledger.cosignature import verifier_from_vkey
from privproc.ledger.keyconsistency import witnessed_at
from privproc.ledger.note import Ed25519Signer, Ed25519Verifier
from privproc.ledger.records import ReleaseRecord, encode_record, sign_record
from privproc.ledger.seen import SeenCheckpointStore
from privproc.ledger.verifier import (
    TrustPolicy,
    check_consistency,
    verify_inclusion_bundle,
    verify_not_revoked,
    verify_record,
)
from privproc.ledger_service.client import LedgerClient
from tests._servers import free_port
from tests.system._ledger_procs import env, run_cli, start, stop, wait_for, wait_http

pytestmark = pytest.mark.system

ORIGIN = "system.test/ledger"
PUBLISHER = Ed25519PrivateKey.generate()


def _release(i: int) -> bytes:
    rec = ReleaseRecord(
        component="enclave",
        version=f"1.0.{i}",
        measurements=(("simulated", bytes([i]) * 32),),
        source_revision="a" * 40,
        recipe_digest=bytes(32),
        model_digest=bytes(32),
        issued_at=int(time.time()),
    )
    return encode_record(sign_record(rec, "publisher.test", PUBLISHER))


def _cosigned(url: str, size: int, log_vkey: str, witness_vkeys: list[str]) -> bool:
    data = httpx.get(url + "/checkpoint", timeout=2).content
    opened = open_checkpoint(
        data, verifier_from_vkey(log_vkey), [verifier_from_vkey(v) for v in witness_vkeys]
    )
    return opened.checkpoint.size >= size and len(opened.cosignatures) == len(witness_vkeys)


def test_ledger_two_witnesses_and_device(tmp_path: Path) -> None:
    log_key = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate())
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "log.key").write_text(log_key.signer_key() + "\n")
    log_vkey = log_key.verifier().vkey()
    procs = []
    try:
        w_urls, w_vkeys = [], []
        for i in range(2):
            port = free_port()
            home = tmp_path / f"w{i}"
            p = start(
                [
                    "witness",
                    "--port",
                    str(port),
                    "--home",
                    str(home),
                    "--name",
                    f"w{i}.test",
                    "--log",
                    log_vkey,
                ],
                tmp_path,
                tmp_path / f"w{i}.log",
            )
            procs.append(p)
            url = f"http://127.0.0.1:{port}"
            wait_http(url + "/.well-known/privproc-vkey", p)
            w_urls.append(url)
            w_vkeys.append(httpx.get(url + "/.well-known/privproc-vkey").text.strip())
        port = free_port()
        ledger = start(
            [
                "ledger",
                "serve",
                "--port",
                str(port),
                "--origin",
                ORIGIN,
                "--witness-interval",
                "1",
                *[a for u in w_urls for a in ("--witness", u)],
            ],
            tmp_path,
            tmp_path / "ledger.log",
        )
        procs.append(ledger)
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/checkpoint", ledger)
        assert run_cli(["ledger", "key", "--url", url], tmp_path).strip() == log_vkey

        # Concurrent appends: three through the CLI, twenty records through the client.
        with ThreadPoolExecutor(8) as pool:
            cli = [
                pool.submit(run_cli, ["ledger", "add", "--url", url], tmp_path, f"raw {i}".encode())
                for i in range(3)
            ]
            token = (tmp_path / "ledger" / "token").read_text().strip()
            entries = [_release(i) for i in range(20)]

            def add(e: bytes) -> int:
                with LedgerClient(url, token=token) as c:
                    return c.add(e)

            indices = list(pool.map(add, entries))
            cli_indices = [int(f.result().strip()) for f in cli]
        assert sorted(indices + cli_indices) == list(range(23))

        wait_for(lambda: _cosigned(url, 23, log_vkey, w_vkeys), "a cosigned checkpoint of 23")

        # The device: log key, two witnesses, quorum 2, cosignatures at most 5 minutes old.
        policy = TrustPolicy(
            verifier_from_vkey(log_vkey),
            tuple(verifier_from_vkey(v) for v in w_vkeys),
            quorum=2,
            max_age=300,
        )
        publisher = Ed25519Verifier("publisher.test", PUBLISHER.public_key())
        seen_store = SeenCheckpointStore(tmp_path / "device" / "seen-checkpoint")
        with LedgerClient(url) as client:
            bundle = client.bundle(indices[7])
            record, result = verify_record(
                bundle, policy, publisher, now=int(time.time()), seen=seen_store.load()
            )
            assert isinstance(record, ReleaseRecord)
            assert record.version == "1.0.7"
            seen_store.save(result.newest)

            # The log grows; the device checks consistency with what it saw.
            more = add(_release(99))
            wait_for(lambda: _cosigned(url, more + 1, log_vkey, w_vkeys), "a cosigned checkpoint")
            seen = seen_store.load()
            assert seen is not None
            bundle2, proof = client.device_proofs(more, seen)
            size2 = open_checkpoint(bundle2.checkpoint, policy.log).checkpoint.size
            assert proof
            res2 = verify_inclusion_bundle(
                bundle2, policy, now=int(time.time()), seen=seen, consistency=proof
            )
            assert res2.newest.size == size2 > seen.size
            seen_store.save(res2.newest)
            # Not revoked: every entry of the verified checkpoint, hashed to its root, scanned.
            entries_now = client.fetch_entries(res2.checkpoint.size)
            # The first quorum-witnessed checkpoint holding an entry (key-consistency rule 4).
            announced = client.witnessed(more)
            assert announced is not None
            announced_cp, stamp = witnessed_at(announced, policy, entries_now, more)
            assert more < announced_cp.size <= res2.checkpoint.size
            assert abs(stamp - time.time()) < 120
            assert client.witnessed(10**9) is None
            verify_not_revoked(
                entries_now, res2.checkpoint, publisher, kind="measurement", target=bytes([7]) * 32
            )

        # The auditor: fetch everything, verify offline, in its own process.
        pub_vkey = publisher.vkey()
        out = run_cli(
            [
                "audit",
                "--url",
                url,
                "--json",
                "--publisher",
                pub_vkey,
                *[a for v in w_vkeys for a in ("--witness", v)],
            ],
            tmp_path,
        )
        report = json.loads(out.strip().splitlines()[-1])
        assert report["ok"] is True
        assert report["size"] >= 24
        assert report["records"] == {"ReleaseRecord": 21}
        assert report["record_signatures_checked"] == 21
        assert report["opaque_entries"] == 3
        assert len(report["cosigners"]) == 2
        assert {r["version"] for r in report["releases"]} == {f"1.0.{i}" for i in [*range(20), 99]}
        human = run_cli(["audit", "--url", url, "--log-key", log_vkey], tmp_path)
        assert "root re-derived from entries" in human
        stranger = Ed25519Signer(ORIGIN, Ed25519PrivateKey.generate()).verifier().vkey()
        bad = subprocess.run(
            [
                sys.executable,
                "-m",
                "privproc",
                "audit",
                "--url",
                url,
                "--json",
                "--log-key",
                stranger,
            ],
            env=env(tmp_path),
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert bad.returncode == 1
        assert json.loads(bad.stdout)["check"] == "checkpoint.log_signature"
        # Issue 12 item 6: without a pinned log key the audit says it checked consistency
        # only, and --strict refuses; with every key pinned --strict passes.
        assert report["trust"].startswith("consistency only")
        assert report["unpinned"] == ["log key"]
        unpinned = subprocess.run(
            [sys.executable, "-m", "privproc", "audit", "--url", url, "--json", "--strict",
             "--publisher", pub_vkey, *[a for v in w_vkeys for a in ("--witness", v)]],
            env=env(tmp_path), capture_output=True, timeout=60, check=False,
        )  # fmt: skip
        assert unpinned.returncode == 1
        assert json.loads(unpinned.stdout)["check"] == "audit.unpinned"
        pinned = run_cli(
            ["audit", "--url", url, "--json", "--strict", "--log-key", log_vkey,
             "--publisher", pub_vkey, *[a for v in w_vkeys for a in ("--witness", v)]],
            tmp_path,
        )  # fmt: skip
        assert json.loads(pinned.strip().splitlines()[-1])["trust"].startswith("pinned")

        # The ledger restarts: it learns each witness's size from a 409 and is cosigned again.
        stop(ledger)
        procs.remove(ledger)
        ledger = start(
            ["ledger", "serve", "--port", str(port), "--origin", ORIGIN, "--witness-interval", "1",
             *[a for u in w_urls for a in ("--witness", u)]],
            tmp_path, tmp_path / "ledger2.log",
        )  # fmt: skip
        procs.append(ledger)
        wait_http(url + "/checkpoint", ledger)
        last = add(_release(100))
        wait_for(lambda: _cosigned(url, last + 1, log_vkey, w_vkeys), "cosigned after a restart")

        # A fork: the same log key serving other entries. Witnesses refuse to cosign it.
        fork_home = tmp_path / "fork"
        fork_home.mkdir()
        (fork_home / "ledger").mkdir()
        (fork_home / "ledger" / "log.key").write_text(log_key.signer_key() + "\n")
        fport = free_port()
        fork = start(
            [
                "ledger",
                "serve",
                "--port",
                str(fport),
                "--origin",
                ORIGIN,
                "--witness-interval",
                "1",
                "--witness-quorum",
                "0",
                *[a for u in w_urls for a in ("--witness", u)],
            ],
            fork_home,
            tmp_path / "fork.log",
        )
        procs.append(fork)
        furl = f"http://127.0.0.1:{fport}"
        wait_http(furl + "/checkpoint", fork)
        ftoken = (fork_home / "ledger" / "token").read_text().strip()
        with LedgerClient(furl, token=ftoken) as fc:
            for i in range(size2 + 2):
                fc.add(b"forked %d" % i)
            fork_log = tmp_path / "fork.log"
            wait_for(  # the fork's witness rounds have run, and every witness refused
                lambda: all(f"witness {u}: RemoteError" in fork_log.read_text() for u in w_urls),
                "the witnesses to refuse the fork",
            )
            fbundle = fc.bundle(3)
            with pytest.raises(LedgerError) as e:
                verify_inclusion_bundle(
                    fbundle, policy, now=int(time.time()), seen=seen_store.load()
                )
            assert e.value.check == "ledger.cosignatures.quorum"
            # And the device that saw the honest log detects the fork by consistency alone.
            cp = seen_store.load()
            assert cp is not None
            forked = open_checkpoint(fbundle.checkpoint, policy.log).checkpoint
            fproof = fc.consistency_proof(cp.size, forked.size)
            with pytest.raises(ForkError) as fe:
                check_consistency(cp, forked, fproof)
            assert fe.value.check == "ledger.consistency"
    finally:
        for p in reversed(procs):
            stop(p)
