"""The CLI's one error path: a one-line reason on stderr, and JSON on stdout under --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privproc import cli
from privproc.commands.client import _print_events
from privproc.errors import LedgerError, QuotaError


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    out, err = capsys.readouterr()
    code = exited.value.code
    return (code if isinstance(code, int) else 1), out, err


def test_json_failure_is_json_with_the_same_exit_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRIVPROC_HOME", str(tmp_path))
    code, out, err = _run(["verify", "--json"], capsys)
    assert code == 1
    doc = json.loads(out)
    assert doc["error"]["check"] == "config"
    assert "no client config" in doc["error"]["message"]
    assert err.startswith("privproc: error: ")


def test_plain_failure_prints_no_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PRIVPROC_HOME", str(tmp_path))
    code, out, err = _run(["verify"], capsys)
    assert (code, out) == (1, "")
    assert "no client config" in err


def test_error_document_names_the_check() -> None:
    assert cli.error_document(LedgerError("ledger.fork", "split view"))["error"] == {
        "check": "ledger.fork",
        "message": "ledger.fork: split view",
    }
    assert cli.error_document(QuotaError("daily quota"))["error"]["check"] == "quota-exceeded"


def test_every_command_module_is_registered() -> None:
    folder = Path(cli.__file__).parent / "commands"
    names = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    assert {m.__name__.rsplit(".", 1)[1] for m in cli.COMMANDS} == names


class _Events(list[dict[str, object]]):
    report = None


def test_a_streamed_withdrawal_is_said_in_the_text(capsys: pytest.CaptureFixture[str]) -> None:
    events = _Events(
        [
            {"delta": "- Ana: dinner at 7."},
            {"withdrawn": {"lines": 1, "why": "sentence 2: unsupported"}},
            {"delta": "Ana: dinner at 7 (moved from 6)"},
            {"done": {}},
        ]
    )
    _print_events(events, False, lambda done, report: done)
    out = capsys.readouterr().out
    first, notice, rest = out.partition("[withdrawn: the model's summary above was refused")
    assert first == "- Ana: dinner at 7.\n"
    assert notice
    assert rest.startswith(" (sentence 2: unsupported);\nthe embedded summary instead:]\n")
    assert rest.endswith("Ana: dinner at 7 (moved from 6)\n")
