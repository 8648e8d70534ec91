"""The eligibility rules table: names, order, and each rule on its own."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.consent.events import ConsentState
from privproc.consent.regions import ASK_REQUIRED, RegionPolicy
from privproc.consent.rules import (
    MALFORMED,
    RULE_NAMES,
    RULES,
    ContentKind,
    ContentRecord,
    failed_rules,
    parse_record,
)
from privproc.errors import DecodeError, MisuseError

from ._consent_data import line

NOW = datetime(2026, 5, 1, tzinfo=UTC)
GRANTED = ConsentState.GRANTED


def record(**changes: object) -> ContentRecord:
    fields: dict[str, object] = {
        "account": "u1",
        "kind": ContentKind.PUBLIC_POST,
        "created": NOW,
        "author_age": 30,
    }
    fields.update(changes)
    return ContentRecord(**fields)  # type: ignore[arg-type]


def test_rule_names_are_stable() -> None:
    # Reports and dashboards count under these names: changing one is a breaking change.
    assert RULE_NAMES == (
        "malformed",
        "public_kind",
        "never_private",
        "adult_at_creation",
        "consent_granted",
    )
    assert MALFORMED == "malformed"
    assert all(rule.meaning for rule in RULES)


def test_eligible_public_adult_granted() -> None:
    for kind in (ContentKind.PUBLIC_POST, ContentKind.COMMENT, ContentKind.PROFILE):
        assert failed_rules(record(kind=kind), GRANTED) == ()


@pytest.mark.parametrize(
    ("changes", "consent", "expected"),
    [
        ({"kind": ContentKind.PRIVATE_MESSAGE}, GRANTED, ("public_kind", "never_private")),
        ({"kind": ContentKind.AI_REQUEST}, GRANTED, ("public_kind", "never_private")),
        ({"private_chat": True}, GRANTED, ("never_private",)),
        ({"private_processing": True}, GRANTED, ("never_private",)),
        ({"author_age": 17}, GRANTED, ("adult_at_creation",)),
        ({"author_age": None}, GRANTED, ("adult_at_creation",)),
        ({"author_age": None, "author_age_band": "16_17"}, GRANTED, ("adult_at_creation",)),
        ({"author_age": None, "author_age_band": "18_plus"}, GRANTED, ()),
        ({"author_age": 30, "author_age_band": "13_15"}, GRANTED, ("adult_at_creation",)),
        ({"author_age": 18}, GRANTED, ()),
        ({}, ConsentState.REFUSED, ("consent_granted",)),
        ({}, ConsentState.UNSET, ("consent_granted",)),
    ],
)
def test_each_rule(changes: dict[str, object], consent: ConsentState, expected: tuple[str]) -> None:
    assert failed_rules(record(**changes), consent) == expected


def test_parse_record_reads_fields_and_ignores_content() -> None:
    parsed = parse_record(
        line(
            account="u1",
            kind="comment",
            created="2026-05-01T10:00:00+02:00",
            author_age_band="18_plus",
            private_chat=False,
            text="hello",
        )
    )
    assert parsed.kind is ContentKind.COMMENT
    assert parsed.created == datetime(2026, 5, 1, 8, tzinfo=UTC)
    assert parsed.author_age is None
    assert parsed.author_age_band == "18_plus"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"not json",
        b"[1, 2]",
        b"\xff\xfe",
        b"[" * 100_000,
        line(account="u1", kind="story", created="2026-05-01T10:00:00Z"),
        line(account="u1", kind="comment", created="2026-05-01T10:00:00"),
        line(account="u1", kind="comment", created=5),
        line(account="", kind="comment", created="2026-05-01T10:00:00Z"),
        line(account="u 1", kind="comment", created="2026-05-01T10:00:00Z"),
        line(kind="comment", created="2026-05-01T10:00:00Z"),
        line(account="u1", kind="comment", created="2026-05-01T10:00:00Z", author_age="30"),
        line(account="u1", kind="comment", created="2026-05-01T10:00:00Z", author_age=True),
        line(account="u1", kind="comment", created="2026-05-01T10:00:00Z", author_age=-1),
        line(account="u1", kind="comment", created="2026-05-01T10:00:00Z", author_age_band="x"),
        line(account="u1", kind="comment", created="2026-05-01T10:00:00Z", private_chat="no"),
    ],
)
def test_malformed_records_raise_decode_error_without_content(raw: bytes) -> None:
    with pytest.raises(DecodeError) as info:
        parse_record(raw)
    assert "u 1" not in str(info.value)
    assert "story" not in str(info.value)


def test_region_policy() -> None:
    policy = RegionPolicy()
    for region in ("DE", "FR", "IS", "NO", "GB", "CH", "BR", "ZZ"):
        assert region in ASK_REQUIRED
        assert policy.effective(ConsentState.UNSET, region) is ConsentState.REFUSED
    assert policy.effective(ConsentState.UNSET, "US") is ConsentState.GRANTED
    assert policy.effective(ConsentState.REFUSED, "US") is ConsentState.REFUSED
    assert policy.effective(ConsentState.GRANTED, "DE") is ConsentState.GRANTED
    strict = RegionPolicy(default_elsewhere=ConsentState.REFUSED)
    assert strict.effective(ConsentState.UNSET, "US") is ConsentState.REFUSED
    with pytest.raises(MisuseError):
        RegionPolicy(default_elsewhere=ConsentState.UNSET)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
fields = st.sampled_from(
    [
        "account",
        "kind",
        "created",
        "author_age",
        "author_age_band",
        "private_chat",
        "private_processing",
    ]
)


@given(st.dictionaries(fields, json_values | st.sampled_from(["u1", "comment", "18_plus"])))
def test_parse_record_raises_only_decode_error(obj: dict[str, object]) -> None:
    try:
        parsed = parse_record(json.dumps(obj).encode())
    except DecodeError:
        return
    assert parsed.account == obj["account"]


@given(st.binary(max_size=64))
def test_parse_record_on_random_bytes_raises_only_decode_error(raw: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse_record(raw)


@pytest.mark.parametrize("when", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
def test_times_out_of_range_are_malformed(when: str) -> None:
    with pytest.raises(DecodeError):
        parse_record(line(account="u1", kind="comment", created=when, author_age=30))
