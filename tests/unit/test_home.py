"""One rule for where state lives: ``$PRIVPROC_HOME`` (when set and not empty) or ~/.privproc."""

from __future__ import annotations

from pathlib import Path

import pytest

from privproc import _home
from privproc._home import default_home, party_home
from privproc.client import config as client_config
from privproc.commands import issuer, ledger
from privproc.consent_service.home import ConsentHome


@pytest.mark.parametrize("value", ["", None])
def test_unset_or_empty_home_is_the_user_folder(
    value: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An empty PRIVPROC_HOME must not put keys in the current directory."""
    monkeypatch.setenv("HOME", str(tmp_path))
    if value is None:
        monkeypatch.delenv("PRIVPROC_HOME", raising=False)
    else:
        monkeypatch.setenv("PRIVPROC_HOME", value)
    base = tmp_path / ".privproc"
    assert default_home() == base
    assert issuer._home(None) == base / "issuer"
    assert ledger._home(None, "ledger") == base / "ledger"
    assert ConsentHome.at().root == base / "consent"
    assert client_config.client_home() == base / "client"
    assert client_config.privproc_home() == base


def test_the_client_uses_the_one_home_rule(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """client.config has no rule of its own: it asks privproc._home."""
    assert client_config.privproc_home is default_home
    monkeypatch.setattr(_home, "default_home", lambda: tmp_path / "patched")
    monkeypatch.setattr(client_config, "default_home", _home.default_home)
    assert client_config.client_home() == tmp_path / "patched" / "client"


def test_home_from_env_and_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRIVPROC_HOME", str(tmp_path / "h"))
    assert party_home(None, "witness") == tmp_path / "h" / "witness"
    assert party_home(tmp_path / "flag", "witness") == tmp_path / "flag"
    assert issuer._home(None) == tmp_path / "h" / "issuer"
