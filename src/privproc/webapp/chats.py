"""The app's chats: a folder of DESIGN.md chat files, and each chat's privacy switch.

A chat file is DESIGN.md's JSON (``{"chat", "language", "messages", "ai_blocked"}``),
validated by :meth:`privproc.workloads.chat.Chat.from_json`. Without a folder the app
shows the demo set shipped in the package (``webapp/demo/``: English and French, unread
messages, a correction, one chat with Advanced Chat Privacy on).

The app never writes chat files. What the user changes, the Advanced Chat Privacy switch,
is the device's state: it is kept in ``$PRIVPROC_HOME/client/app-privacy.json``
(``{chat id: bool}``), next to the rest of what the device keeps, and read back at the
next start, so a chat the user shielded stays shielded.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from privproc.errors import ConfigError, DecodeError, NotFoundError, StoreError
from privproc.workloads.chat import Chat

__all__ = ["PRIVACY_FILE", "ChatBook", "StoredChat", "demo_chats"]

#: Where the switches live, inside the device's folder.
PRIVACY_FILE = "app-privacy.json"
#: Most chat files one folder may hold.
_MAX_CHATS = 500
#: Largest chat file read, in bytes (1000 messages of 8000 characters fit).
_MAX_FILE = 16 * 1024 * 1024
_ID = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class StoredChat:
    """One chat as the app holds it: its id (from the file name) and the chat."""

    id: str
    chat: Chat

    def __repr__(self) -> str:
        return f"StoredChat(id={self.id!r}, chat={self.chat!r})"


def _chat_id(name: str) -> str:
    """A URL-safe id from a file name: ``01-Family.json`` -> ``01-family``."""
    return _ID.sub("-", name.removesuffix(".json").lower()).strip("-") or "chat"


def _parse(raw: bytes, name: str) -> Chat:
    try:
        return Chat.from_json(json.loads(raw))
    except (ValueError, RecursionError):
        raise ConfigError(f"chat file {name}: not JSON") from None
    except DecodeError as exc:
        # Chat.from_json names the field and the rule, never the content.
        raise ConfigError(f"chat file {name}: {exc}") from None


def demo_chats() -> list[tuple[str, bytes]]:
    """The demo set shipped in the package: (file name, bytes), in name order."""
    folder = resources.files("privproc.webapp") / "demo"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name)
    return [(f.name, f.read_bytes()) for f in files]


def _folder_chats(folder: Path) -> list[tuple[str, bytes]]:
    try:
        paths = sorted(p for p in folder.iterdir() if p.suffix == ".json" and p.is_file())
    except OSError:
        raise ConfigError(f"chats folder unreadable: {folder}") from None
    if len(paths) > _MAX_CHATS:
        raise ConfigError(f"chats folder: more than {_MAX_CHATS} chat files")
    out: list[tuple[str, bytes]] = []
    for path in paths:
        try:
            if path.stat().st_size > _MAX_FILE:
                raise ConfigError(f"chat file {path.name}: larger than {_MAX_FILE} bytes")
            out.append((path.name, path.read_bytes()))
        except OSError:
            raise ConfigError(f"chat file unreadable: {path.name}") from None
    return out


class ChatBook:
    """The chats the app shows, by id, with their privacy switches (thread-safe)."""

    def __init__(self, files: list[tuple[str, bytes]], device_home: Path) -> None:
        self._lock = threading.Lock()
        self._path = device_home / PRIVACY_FILE
        chats: dict[str, StoredChat] = {}
        for name, raw in files:
            chat_id = _chat_id(name)
            if chat_id in chats:
                raise ConfigError(f"chat files {name}: two files give the id {chat_id!r}")
            chats[chat_id] = StoredChat(chat_id, _parse(raw, name))
        if not chats:
            raise ConfigError("no chat files (*.json) to show")
        for chat_id, on in self._load_switches().items():
            if chat_id in chats:
                shielded = dataclasses.replace(chats[chat_id].chat, ai_blocked=on)
                chats[chat_id] = StoredChat(chat_id, shielded)
        self._chats = chats

    @classmethod
    def open(cls, folder: Path | None, device_home: Path) -> ChatBook:
        """The chats of ``folder`` (default: the demo set)."""
        return cls(demo_chats() if folder is None else _folder_chats(folder), device_home)

    def all(self) -> list[StoredChat]:
        """Every chat, in file-name order."""
        with self._lock:
            return list(self._chats.values())

    def get(self, chat_id: str) -> StoredChat:
        """The chat ``chat_id``; NotFoundError when there is none."""
        with self._lock:
            stored = self._chats.get(chat_id)
        if stored is None:
            raise NotFoundError("no such chat")
        return stored

    def set_privacy(self, chat_id: str, on: bool) -> StoredChat:
        """Turn the chat's Advanced Chat Privacy on or off, and keep it on the device."""
        with self._lock:
            stored = self._chats.get(chat_id)
            if stored is None:
                raise NotFoundError("no such chat")
            changed = StoredChat(chat_id, dataclasses.replace(stored.chat, ai_blocked=on))
            switches = self._load_switches()
            switches[chat_id] = on
            self._save_switches(switches)
            self._chats[chat_id] = changed
        return changed

    def _load_switches(self) -> dict[str, bool]:
        try:
            raw = json.loads(self._path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            raise StoreError(f"privacy switches unreadable: {self._path}") from None
        if not isinstance(raw, dict) or not all(
            isinstance(k, str) and isinstance(v, bool) for k, v in raw.items()
        ):
            raise StoreError(f"privacy switches malformed: {self._path}")
        return dict(raw)

    def _save_switches(self, switches: dict[str, bool]) -> None:
        tmp = self._path.with_suffix(".tmp")
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(switches, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, self._path)
        except OSError as exc:
            raise StoreError(f"cannot keep the privacy switch: {type(exc).__name__}") from None
