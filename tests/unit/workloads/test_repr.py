"""No chat content in repr()/str() of any workloads value (logs and tracebacks show them)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from privproc.workloads import Chat
from privproc.workloads.chat import Message
from privproc.workloads.digest import Statement, _Clause
from privproc.workloads.rewrite import Rewrite, Rewrites
from privproc.workloads.summarize import Point, Summary
from privproc.workloads.text import Facts

CANARY = "canary-Zq7 plaintext"
NAME = "CanaryName"


def _values() -> list[object]:
    message = Message(NAME, datetime(2026, 11, 20, 10, 0, tzinfo=UTC), CANARY, True)
    point = Point(NAME, CANARY, 0, "fact")
    rewrite = Rewrite("formal", CANARY)
    return [
        message,
        Chat(NAME, "en", (message,)),
        point,
        Summary(CANARY, (point,), "en", 1, "extractive"),
        rewrite,
        Rewrites("en", CANARY, (rewrite,), "rules"),
        Facts((CANARY,), (CANARY,), (NAME,), (CANARY,)),
        _Clause(0, 0, NAME, CANARY, Facts((), (), (), ())),
        Statement(NAME, CANARY, (0,), "task", 0, 1.0),
    ]


@pytest.mark.parametrize("value", _values(), ids=lambda v: type(v).__name__)
def test_repr_and_str_never_show_content(value: object) -> None:
    for text in (repr(value), str(value), f"{value!r}", repr([value])):
        assert CANARY not in text
        assert NAME not in text
        assert type(value).__name__ in text


def test_repr_still_says_how_much() -> None:
    chat = _values()[1]
    assert repr(chat) == (
        "Chat(chat=<10 chars>, language='en', messages=<1 messages>, ai_blocked=False)"
    )
    assert f"text=<{len(CANARY)} chars>" in repr(_values()[0])
