"""The Chat value type: validation of DESIGN.md's chat JSON."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.errors import DecodeError, MisuseError
from privproc.workloads import Chat, Message

GOOD: dict[str, Any] = {
    "chat": "Family",
    "language": "en",
    "messages": [
        {"sender": "Ana", "time": "2026-11-20T18:04:00Z", "text": "secret plan", "unread": True},
        {"sender": "Ben", "time": "2026-11-20T18:05:00+01:00", "text": "ok", "unread": False},
    ],
    "ai_blocked": False,
}


def test_from_json_reads_the_design_shape() -> None:
    chat = Chat.from_json(GOOD)
    assert chat.chat == "Family"
    assert chat.base_language == "en"
    assert len(chat.messages) == 2
    assert chat.messages[0].time == datetime(2026, 11, 20, 18, 4, tzinfo=UTC)
    assert [m.sender for m in chat.unread] == ["Ana"]
    assert chat.ai_blocked is False


def test_round_trip() -> None:
    chat = Chat.from_json(GOOD)
    assert Chat.from_json(chat.to_json()) == chat


def test_ai_blocked_defaults_to_false() -> None:
    data = copy.deepcopy(GOOD)
    del data["ai_blocked"]
    assert Chat.from_json(data).ai_blocked is False


def test_region_subtag() -> None:
    data = copy.deepcopy(GOOD)
    data["language"] = "fr-CA"
    assert Chat.from_json(data).base_language == "fr"


def _mutated(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(GOOD)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (["chat"], KeyError),
        (["chat"], 7),
        (["chat"], ""),
        (["language"], "english!"),
        (["language"], KeyError),
        (["messages"], "nope"),
        (["messages"], KeyError),
        (["ai_blocked"], "no"),
        (["ai_blocked"], 0),
        (["extra"], 1),
        (["messages", 0], "text"),
        (["messages", 0, "sender"], ""),
        (["messages", 0, "sender"], None),
        (["messages", 0, "time"], "2026-11-20 18:04"),
        (["messages", 0, "time"], "2026-13-45T18:04:00Z"),
        (["messages", 0, "time"], "2026-11-20T18:04:00"),
        (["messages", 0, "text"], 5),
        (["messages", 0, "text"], "x" * 8001),
        (["messages", 0, "unread"], 1),
        (["messages", 0, "unread"], KeyError),
        (["messages", 0, "extra"], True),
    ],
)
def test_bad_input_raises_decode_error_naming_the_field(path: list[Any], value: Any) -> None:
    with pytest.raises(DecodeError) as info:
        Chat.from_json(_mutated(path, value))
    assert "secret plan" not in str(info.value)  # never echoes content
    assert str(info.value).startswith("chat")


def test_not_an_object() -> None:
    with pytest.raises(DecodeError):
        Chat.from_json([GOOD])


def test_too_many_messages() -> None:
    data = copy.deepcopy(GOOD)
    data["messages"] = [GOOD["messages"][0]] * 1001
    with pytest.raises(DecodeError, match="more than 1000"):
        Chat.from_json(data)


def test_values_are_checked_when_made() -> None:
    with pytest.raises(MisuseError):
        Message("Ana", datetime(2026, 1, 1), "naive time", True)
    with pytest.raises(MisuseError):
        Chat("Family", "en", [], False)  # type: ignore[arg-type]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "chat",
                    "language",
                    "messages",
                    "ai_blocked",
                    "sender",
                    "time",
                    "text",
                    "unread",
                    "x",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


@given(json_values)
def test_any_json_gives_a_chat_or_decode_error(value: object) -> None:
    try:
        chat = Chat.from_json(value)
    except DecodeError:
        return
    assert Chat.from_json(chat.to_json()) == chat


@pytest.mark.parametrize(
    "name",
    [
        "HBC Villeneuve \u2013 Seniors F 🤾\u200d♀️",  # en dash, ZWJ sequence, VS16
        "👨\u200d👩\u200d👧\u200d👦 Famille",
        "🇨🇭 Équipe",  # regional indicators
        "مرحبا\u200f",  # right-to-left mark (Cf)
        "x" * 200,
    ],
)
def test_chat_name_emoji_and_format_characters_are_accepted(name: str) -> None:
    data = copy.deepcopy(GOOD)
    data["chat"] = name
    data["messages"][0]["sender"] = name
    chat = Chat.from_json(data)
    assert chat.chat == name
    assert chat.messages[0].sender == name
    assert Chat.from_json(chat.to_json()) == chat


@pytest.mark.parametrize(
    "name", ["", "   ", "x" * 201, "a\nb", "tab\there", "bell\x07", "del\x7f", "c1\x85", "\ud83e"]
)
def test_chat_name_emoji_rule_still_refuses_controls_and_surrogates(name: str) -> None:
    for path in (["chat"], ["messages", 0, "sender"]):
        with pytest.raises(DecodeError) as info:
            Chat.from_json(_mutated(path, name))
        assert "control characters" in str(info.value)


def test_chat_name_emoji_message_text_keeps_line_breaks_and_refuses_other_controls() -> None:
    data = copy.deepcopy(GOOD)
    data["messages"][0]["text"] = "line one\nline two\r\n\tindented 🤾\u200d♀️"
    assert "\n" in Chat.from_json(data).messages[0].text
    for bad in ("nul\x00", "esc\x1b[31m", "lone \udc00 surrogate"):
        with pytest.raises(DecodeError) as info:
            Chat.from_json(_mutated(["messages", 0, "text"], bad))
        assert "text" in str(info.value)
        assert bad not in str(info.value)
