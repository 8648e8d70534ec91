"""The device's reading of a node's streamed events (client/sdk.py ``_StreamReader``): a
summary's result must be the text its deltas streamed since the last withdrawal, and a
withdrawal must name the lines it withdraws; anything else is a DecodeError, not shown."""

from __future__ import annotations

import json
from typing import Any

import pytest

from privproc.client.sdk import _StreamReader
from privproc.errors import DecodeError
from privproc.sealed import SUITE, seal_request


def _reader() -> _StreamReader:
    _, public = SUITE.kem.derive_key_pair(bytes(32))
    _, secret = seal_request(b"{}", [public])
    return _StreamReader(secret)


def _feed(reader: _StreamReader, *events: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for event in events:
        seen = reader._event(json.dumps(event).encode())
        if seen is not None:
            out.append(seen)
    return out


def _done(text: str) -> dict[str, Any]:
    return {"done": {"summary": {"text": text, "method": "abstractive"}}}


def test_deltas_since_the_withdrawal_are_the_summary() -> None:
    reader = _reader()
    events: list[dict[str, Any]] = [
        {"delta": "- a"},
        {"withdrawn": {"lines": 1, "why": "sentence 2: unsupported"}},
        {"delta": "b"},
        {"delta": "\nc"},
    ]
    assert _feed(reader, *events, _done("b\nc")) == events


@pytest.mark.parametrize(
    "events",
    [
        [{"delta": "- a"}, _done("- b")],  # a result that is not what was streamed
        [{"delta": "- a"}, {"withdrawn": {"lines": 1, "why": "x"}}, _done("- a")],
        [{"delta": "- a"}, {"withdrawn": {"lines": 2, "why": "x"}}],  # not what was shown
        [{"withdrawn": {"lines": 0}}],  # no reason
        [{"withdrawn": "all"}],
        [{"delta": 3}],
    ],
)
def test_a_stream_that_does_not_add_up_is_refused(events: list[dict[str, Any]]) -> None:
    with pytest.raises(DecodeError):
        _feed(_reader(), *events)
