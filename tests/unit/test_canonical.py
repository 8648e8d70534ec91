"""privproc.canonical: one value, one encoding."""

from __future__ import annotations

from privproc.canonical import canonical_json


def test_sorted_compact_ascii() -> None:
    assert canonical_json({"b": [1, "é"], "a": {"d": None, "c": True}}) == (
        b'{"a":{"c":true,"d":null},"b":[1,"\\u00e9"]}'
    )


def test_key_order_does_not_change_the_encoding() -> None:
    assert canonical_json({"x": 1, "y": 2}) == canonical_json({"y": 2, "x": 1})
