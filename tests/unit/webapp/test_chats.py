"""The app's chats: the demo set, a folder, and the privacy switch kept on the device."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privproc.errors import ConfigError, NotFoundError, StoreError
from privproc.webapp.chats import PRIVACY_FILE, ChatBook, demo_chats


def test_demo_set_has_english_french_unread_a_correction_and_a_shielded_chat(
    tmp_path: Path,
) -> None:
    book = ChatBook.open(None, tmp_path)
    chats = book.all()
    assert {c.chat.language for c in chats} >= {"en", "fr"}
    assert all(c.chat.unread for c in chats)
    assert [c.id for c in chats if c.chat.ai_blocked] == ["04-health"]
    texts = [m.text for c in chats for m in c.chat.messages]
    assert any(t.startswith(("No wait", "Non attends")) for t in texts)
    assert len(demo_chats()) == len(chats)


def test_privacy_switch_is_kept_on_the_device_and_read_back(tmp_path: Path) -> None:
    book = ChatBook.open(None, tmp_path)
    assert book.set_privacy("01-family", True).chat.ai_blocked
    assert json.loads((tmp_path / PRIVACY_FILE).read_text())["01-family"] is True
    again = ChatBook.open(None, tmp_path)
    assert again.get("01-family").chat.ai_blocked
    assert not again.set_privacy("04-health", False).chat.ai_blocked
    assert [p.name for p in tmp_path.iterdir()] == [PRIVACY_FILE]


def test_unknown_chat_and_bad_files_are_named_errors(tmp_path: Path) -> None:
    book = ChatBook.open(None, tmp_path / "home")
    with pytest.raises(NotFoundError):
        book.get("nope")
    with pytest.raises(NotFoundError):
        book.set_privacy("nope", True)
    folder = tmp_path / "chats"
    folder.mkdir()
    with pytest.raises(ConfigError, match="no chat files"):
        ChatBook.open(folder, tmp_path / "home")
    (folder / "a.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"a\.json: not JSON"):
        ChatBook.open(folder, tmp_path / "home")
    (folder / "a.json").write_text(json.dumps({"chat": "x"}))
    with pytest.raises(ConfigError, match=r"a\.json"):
        ChatBook.open(folder, tmp_path / "home")


def test_malformed_switch_file_fails_closed(tmp_path: Path) -> None:
    (tmp_path / PRIVACY_FILE).write_text(json.dumps({"01-family": "yes"}))
    with pytest.raises(StoreError, match="malformed"):
        ChatBook.open(None, tmp_path)
