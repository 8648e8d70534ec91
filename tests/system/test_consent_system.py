"""The consent service on a real loopback socket, in its own process: an objection made
over HTTP applies to the very next training export (SQLite and PostgreSQL backends)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from privproc.consent.events import ConsentEvent, verify_chain
from privproc.consent.receipt import Receipt, unb64url, verify_receipt
from tests._postgres import PostgresServer, running_postgres
from tests._servers import privproc_env, privproc_server

SECRET_TEXT = "private words 91c2"


def _env(home: Path) -> dict[str, str]:
    env = privproc_env(PRIVPROC_HOME=str(home))
    env.pop("PRIVPROC_CONSENT_TOKEN", None)
    return env


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "privproc", "consent", *args],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok(home: Path, *args: str) -> str:
    result = cli(home, *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def pg_server() -> Iterator[PostgresServer]:
    with running_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgres"])
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    home = tmp_path / "home"
    args = ["consent", "serve", "--home", str(home)]
    if request.param == "postgres":
        args += ["--database-url", request.getfixturevalue("pg_server").new_database()]
    log = tmp_path / "service.log"
    with privproc_server(args, what="consent service", env=_env(home), log=log) as url:
        yield url, home


def _records(path: Path) -> None:
    rows: list[dict[str, object]] = [
        {"account": "alice", "kind": "public_post", "author_age": 30},
        {"account": "alice", "kind": "comment", "author_age_band": "18_plus"},
        {"account": "alice", "kind": "private_message", "author_age": 30},
        {"account": "bob", "kind": "profile", "author_age": 44},
        {"account": "bob", "kind": "public_post", "author_age": 15},
        {"account": "carol", "kind": "public_post", "author_age": 50},
        {"account": "bob", "kind": "ai_request", "author_age": 44},
    ]
    with path.open("w") as f:
        for i, row in enumerate(rows):
            f.write(
                json.dumps({**row, "id": i, "created": "2026-02-01T00:00:00Z", "text": SECRET_TEXT})
                + "\n"
            )
        f.write(SECRET_TEXT + " not json\n")


def _export(url: str, home: Path, tmp: Path) -> tuple[list[int], dict[str, object]]:
    out = tmp / "eligible.jsonl"
    stdout = ok(home, "export", "--in", str(tmp / "in.jsonl"), "--out", str(out), "--url", url,
                "--json")  # fmt: skip
    assert SECRET_TEXT not in stdout
    report = json.loads(stdout)
    return [json.loads(line)["id"] for line in out.read_text().splitlines()], report


def _register(url: str, home: Path, account: str, region: str) -> str:
    admin = (home / "consent" / "admin-token").read_text().strip()
    r = httpx.post(
        f"{url}/accounts",
        json={"account": account, "region": region},
        headers={"authorization": f"Bearer {admin}"},
        timeout=10,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["secret"])


@pytest.mark.system
def test_objection_applies_to_the_next_export(service: tuple[str, Path], tmp_path: Path) -> None:
    url, home = service
    _records(tmp_path / "in.jsonl")
    alice = _register(url, home, "alice", "US")
    bob = _register(url, home, "bob", "DE")
    # bob is in a region that asks first: nothing of his until he grants.
    ids, report = _export(url, home, tmp_path)
    assert ids == [0, 1]
    r = httpx.put(f"{url}/accounts/bob/consent", json={"state": "granted"},
                  headers={"authorization": f"Bearer {bob}"}, timeout=10)  # fmt: skip
    assert r.status_code == 200
    ids, report = _export(url, home, tmp_path)
    assert ids == [0, 1, 3]
    assert report["read"] == 8
    excluded = report["excluded"]
    assert isinstance(excluded, dict)
    assert excluded["malformed"] == 1
    assert excluded["adult_at_creation"] == 1
    assert excluded["consent_granted"] == 1  # carol: unknown to the consent service

    # alice objects in one step, with her own credential; no account named.
    receipt = Receipt.from_json(json.loads(ok(home, "refuse", "--url", url, "--token", alice,
                                              "--json"))["receipt"])  # fmt: skip
    key = unb64url(httpx.get(f"{url}/key", timeout=10).json()["public_key"], "key")
    assert verify_receipt(receipt, key).state.value == "refused"

    ids, report = _export(url, home, tmp_path)
    assert ids == [3]
    assert report["excluded"]["consent_granted"] == 3  # type: ignore[index]

    r = httpx.get(f"{url}/accounts/alice/history", headers={"authorization": f"Bearer {alice}"},
                  timeout=10)  # fmt: skip
    events = [ConsentEvent.from_json(e) for e in r.json()["events"]]
    head = verify_chain(events, account="alice")
    assert head is not None
    assert head.hash == receipt.event_hash
    assert [e.state.value for e in events] == ["unset", "refused"]


@pytest.mark.system
def test_service_refuses_unauthenticated_changes(service: tuple[str, Path]) -> None:
    url, home = service
    _register(url, home, "dave", "US")
    r = httpx.put(f"{url}/accounts/dave/consent", json={"state": "granted"}, timeout=5)
    assert r.status_code == 401
    r = httpx.post(f"{url}/objection", headers={"authorization": "Bearer nope"}, timeout=5)
    assert r.status_code == 401
    failed = cli(home, "refuse", "--url", url, "--token", "nope")
    assert failed.returncode == 1
    assert "401" in failed.stderr
    assert len(failed.stderr.strip().splitlines()) == 1
    status = json.loads(ok(home, "status", "--url", url, "--account", "dave"))
    assert (status["state"], status["seq"]) == ("unset", 0)
