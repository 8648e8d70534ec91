"""The chat a device sends for a summary: a validated, immutable value.

The JSON shape is DESIGN.md's chat file::

    {"chat": "Family", "language": "en",
     "messages": [{"sender": "Ana", "time": "2026-11-20T18:04:00Z",
                   "text": "...", "unread": true}, ...],
     "ai_blocked": false}

:meth:`Chat.from_json` refuses anything else with :class:`~privproc.errors.DecodeError`.
Error messages name the field and the rule, never the content (a chat is private).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from privproc.errors import DecodeError, MisuseError

__all__ = ["MAX_MESSAGES", "MAX_TEXT_CHARS", "Chat", "Message"]

#: Most messages one chat may carry (the unread ones are summarized, up to all of them).
MAX_MESSAGES = 1000
#: Longest message text, in characters.
MAX_TEXT_CHARS = 8000
_MAX_NAME_CHARS = 200
#: BCP 47 language tag, the subset apps send (RFC 5646 §2.1: language [-script][-region]...).
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")
#: RFC 3339 §5.6 date-time, UTC or with an offset.
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})", re.ASCII)
_CHAT_KEYS = frozenset({"chat", "language", "messages", "ai_blocked"})
_MESSAGE_KEYS = frozenset({"sender", "time", "text", "unread"})


#: Control characters message text may hold (line breaks and tabs); names hold none.
_TEXT_CONTROLS = frozenset("\t\n\r")


def _bad_char(value: str, allowed: frozenset[str] = frozenset()) -> bool:
    """A control character (Unicode Cc) not in ``allowed``, or a lone surrogate (Cs).

    Everything else is text: emoji sequences with ZERO WIDTH JOINER and variation
    selectors (Cf, Mn), any script, spaces. A lone surrogate cannot be UTF-8 encoded.
    """
    return any(
        unicodedata.category(c) in ("Cc", "Cs") and c not in allowed
        for c in value
        if not c.isprintable()
    )


def _check_name(value: str, what: str) -> None:
    """Chat titles and sender names: 1 to 200 characters, not all spaces, one line of
    text (no control characters, no lone surrogates)."""
    if not value.strip() or len(value) > _MAX_NAME_CHARS or _bad_char(value):
        raise MisuseError(
            f"{what}: must be 1 to {_MAX_NAME_CHARS} characters without control characters"
        )


@dataclass(frozen=True, slots=True, repr=False)
class Message:
    """One chat message; ``time`` is timezone-aware.

    ``repr()`` shows the sender's and the text's lengths, never their content.
    """

    sender: str
    time: datetime
    text: str
    unread: bool

    def __post_init__(self) -> None:
        _check_name(self.sender, "sender")
        if self.time.tzinfo is None:
            raise MisuseError("time: must be timezone-aware")
        if len(self.text) > MAX_TEXT_CHARS:
            raise MisuseError(f"text: longer than {MAX_TEXT_CHARS} characters")
        if _bad_char(self.text, _TEXT_CONTROLS):
            raise MisuseError(
                "text: control characters other than tab and line breaks, or a lone surrogate"
            )

    def to_json(self) -> dict[str, Any]:
        """The message as DESIGN.md's JSON object."""
        stamp = self.time.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return {"sender": self.sender, "time": stamp, "text": self.text, "unread": self.unread}

    def __repr__(self) -> str:
        return (
            f"Message(sender=<{len(self.sender)} chars>, time={self.time.isoformat()!r}, "
            f"text=<{len(self.text)} chars>, unread={self.unread})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class Chat:
    """A chat: its title, language (BCP 47), messages in order, and the AI switch.

    ``repr()`` shows the title's length and the number of messages, never content.

    ``ai_blocked`` is the chat's Advanced Chat Privacy switch: the features refuse
    such a chat (:class:`~privproc.errors.PolicyError`).
    """

    chat: str
    language: str
    messages: tuple[Message, ...]
    ai_blocked: bool = False

    def __post_init__(self) -> None:
        _check_name(self.chat, "chat")
        if not _LANGUAGE.fullmatch(self.language):
            raise MisuseError("language: not a BCP 47 language tag")
        if not isinstance(self.messages, tuple) or not all(
            isinstance(m, Message) for m in self.messages
        ):
            raise MisuseError("messages: must be a tuple of Message")
        if len(self.messages) > MAX_MESSAGES:
            raise MisuseError(f"messages: more than {MAX_MESSAGES}")

    @property
    def base_language(self) -> str:
        """The primary language subtag, lower case (``"fr"`` for ``"fr-CA"``)."""
        return self.language.split("-", 1)[0].lower()

    @property
    def unread(self) -> tuple[Message, ...]:
        """The unread messages, in chat order."""
        return tuple(m for m in self.messages if m.unread)

    def to_json(self) -> dict[str, Any]:
        """The chat as DESIGN.md's JSON object."""
        return {
            "chat": self.chat,
            "language": self.language,
            "messages": [m.to_json() for m in self.messages],
            "ai_blocked": self.ai_blocked,
        }

    def __repr__(self) -> str:
        return (
            f"Chat(chat=<{len(self.chat)} chars>, language={self.language!r}, "
            f"messages=<{len(self.messages)} messages>, ai_blocked={self.ai_blocked})"
        )

    @classmethod
    def from_json(cls, data: object) -> Chat:
        """Validate a decoded JSON value; raise DecodeError naming the bad field."""
        if not isinstance(data, dict):
            raise DecodeError("chat: not a JSON object")
        unknown = set(data) - _CHAT_KEYS
        if unknown:
            raise DecodeError(f"chat: {len(unknown)} unknown fields")
        title = _field(data, "chat", str, "chat")
        language = _field(data, "language", str, "chat")
        raw_messages = _field(data, "messages", list, "chat")
        ai_blocked = data.get("ai_blocked", False)
        if not isinstance(ai_blocked, bool):
            raise DecodeError("chat.ai_blocked: not a boolean")
        if len(raw_messages) > MAX_MESSAGES:
            raise DecodeError(f"chat.messages: more than {MAX_MESSAGES}")
        messages = tuple(_message(raw, i) for i, raw in enumerate(raw_messages))
        try:
            return cls(title, language, messages, ai_blocked)
        except MisuseError as exc:
            raise DecodeError(f"chat.{exc}") from None


def _field(obj: dict[Any, Any], key: str, kind: type, where: str) -> Any:
    if key not in obj:
        raise DecodeError(f"{where}.{key}: missing")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) is not (kind is bool):
        raise DecodeError(f"{where}.{key}: not a {kind.__name__}")
    return value


def _message(raw: object, index: int) -> Message:
    where = f"chat.messages[{index}]"
    if not isinstance(raw, dict):
        raise DecodeError(f"{where}: not a JSON object")
    unknown = set(raw) - _MESSAGE_KEYS
    if unknown:
        raise DecodeError(f"{where}: {len(unknown)} unknown fields")
    sender = _field(raw, "sender", str, where)
    stamp = _field(raw, "time", str, where)
    text = _field(raw, "text", str, where)
    unread = _field(raw, "unread", bool, where)
    if not _TIME.fullmatch(stamp):
        raise DecodeError(f"{where}.time: not an RFC 3339 date-time")
    try:
        when = datetime.fromisoformat(stamp)
        return Message(sender, when, text, unread)
    except ValueError:
        raise DecodeError(f"{where}.time: not a valid date-time") from None
    except MisuseError as exc:
        raise DecodeError(f"{where}.{exc}") from None
