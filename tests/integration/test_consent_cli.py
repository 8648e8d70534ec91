"""``privproc consent ...`` on a local store (in process): register, grant, refuse with a
receipt, export with a report, audit; failures are one line naming the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from privproc.cli import build_app
from privproc.errors import (
    ConfigError,
    DecodeError,
    NotFoundError,
    PrivprocError,
    VerificationError,
)

SECRET_TEXT = "words only the author knows"


def run(home: Path, *args: str) -> str:
    result = CliRunner().invoke(build_app(), ["consent", *args, "--home", str(home)])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_local_round_trip(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run(home, "register", "--account", "ana", "--region", "BR")
    run(home, "register", "--account", "ben", "--region", "US")
    run(home, "grant", "--account", "ana")
    records = tmp_path / "in.jsonl"
    rows = [
        {"account": "ana", "kind": "public_post", "author_age": 20},
        {"account": "ben", "kind": "comment", "author_age": 33},
        {"account": "ben", "kind": "private_message", "author_age": 33},
    ]
    records.write_text(
        "".join(
            json.dumps({**r, "created": "2026-01-01T00:00:00Z", "text": SECRET_TEXT}) + "\n"
            for r in rows
        )
        + "{"
        + SECRET_TEXT
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    report = json.loads(run(home, "export", "--in", str(records), "--out", str(out), "--json"))
    assert [json.loads(x)["account"] for x in out.read_text().splitlines()] == ["ana", "ben"]
    assert report["excluded"]["malformed"] == 1
    assert report["excluded"]["public_kind"] == 1

    receipt = tmp_path / "receipt.json"
    receipt.write_text(run(home, "refuse", "--account", "ben", "--json"))
    key = run(home, "key").strip()
    assert "receipt verified" in run(home, "verify-receipt", "--receipt", str(receipt),
                                      "--key", key)  # fmt: skip
    table = run(home, "export", "--in", str(records), "--out", str(out))
    assert SECRET_TEXT not in table
    assert "consent_granted" in table
    assert [json.loads(x)["account"] for x in out.read_text().splitlines()] == ["ana"]
    assert "audit passed: 2 accounts, 4 events" in run(home, "audit")

    forged = json.loads(receipt.read_text())
    forged["receipt"]["state"] = "granted"
    receipt.write_text(json.dumps(forged))
    with pytest.raises(VerificationError) as info:
        run(home, "verify-receipt", "--receipt", str(receipt), "--key", key)
    assert info.value.check == "consent.receipt.signature"


def test_failures_are_privproc_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with pytest.raises(NotFoundError):
        run(home, "grant", "--account", "ghost")
    with pytest.raises(DecodeError, match="account"):
        run(home, "register", "--account", "bad name", "--region", "US")
    with pytest.raises(ConfigError, match="export"):
        run(home, "export", "--in", str(tmp_path / "missing"), "--out", str(tmp_path / "o"))
    assert not (tmp_path / "o").exists()
    assert not (tmp_path / "o.partial").exists()


def test_reading_commands_refuse_a_missing_store(tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text("")
    missing = str(tmp_path / "typo.db")
    for args in (
        ["export", "--in", str(records), "--out", str(tmp_path / "o"), "--consent-db", missing],
        ["audit", "--consent-db", missing],
        ["status", "--account", "a", "--consent-db", missing],
    ):
        with pytest.raises(PrivprocError, match="no consent store"):
            run(tmp_path / "home", *args)
    assert not Path(missing).exists()


def test_local_history_status_and_receipt_check_by_the_home_key(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run(home, "register", "--account", "cy", "--region", "DE")
    receipt = tmp_path / "receipt.json"
    receipt.write_text(run(home, "refuse", "--account", "cy", "--json"))
    history = json.loads(run(home, "history", "--account", "cy", "--json"))
    assert history["verified"] is True
    assert [e["state"] for e in history["events"]] == ["unset", "refused"]
    status = json.loads(run(home, "status", "--account", "cy"))
    assert (status["state"], status["seq"]) == ("refused", 1)
    assert "receipt verified: cy refused" in run(home, "verify-receipt", "--receipt", str(receipt))
    with pytest.raises(PrivprocError, match="no such account"):
        run(home, "status", "--account", "nobody")
