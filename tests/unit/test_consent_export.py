"""Property tests of the training-data filter over random records and consent histories.

An independent oracle (written from the issue's words, not from the rules module)
says which lines may be exported; the filter must export exactly those, and in
particular never a private message, a minor's record, a refused account's record or
a Private Processing request.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.consent.events import ConsentEvent, ConsentState, loads_strict, state_at
from privproc.consent.export import Exporter, ExportReport
from privproc.consent.files import iter_lines
from privproc.consent.regions import ASK_REQUIRED
from privproc.consent.rules import parse_record
from privproc.errors import DecodeError

from ._consent_data import T0, history, line, lookup_at

ACCOUNTS = ["a0", "a1", "a2", "a3"]
REGIONS = ["DE", "GB", "BR", "ZZ", "US", "JP"]
SECRET = "do-not-leak-7f3a"

changes = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=100),
        st.sampled_from([ConsentState.GRANTED, ConsentState.REFUSED]),
    ),
    max_size=5,
).map(sorted)

valid_record = st.fixed_dictionaries(
    {
        "account": st.sampled_from([*ACCOUNTS, "stranger"]),
        "kind": st.sampled_from(
            ["public_post", "comment", "profile", "private_message", "ai_request"]
        ),
        "created": st.integers(min_value=-1000, max_value=1000).map(
            lambda s: (T0 + timedelta(seconds=s)).isoformat().replace("+00:00", "Z")
        ),
        "text": st.just(SECRET),
    },
    optional={
        "author_age": st.one_of(st.none(), st.integers(min_value=0, max_value=120)),
        "author_age_band": st.one_of(
            st.none(), st.sampled_from(["under_13", "13_15", "16_17", "13_17", "18_plus"])
        ),
        "private_chat": st.one_of(st.none(), st.booleans()),
        "private_processing": st.one_of(st.none(), st.booleans()),
    },
)

junk_line = st.one_of(
    st.binary(max_size=40).map(lambda b: b"\xff" + b),
    st.text(max_size=40).map(lambda t: json.dumps([SECRET, t]).encode()),
    st.just(json.dumps({"account": "a0", "kind": "story", "text": SECRET}).encode()),
    st.just(json.dumps({"account": "a0", "kind": "comment", "created": "yesterday"}).encode()),
    st.just(b"{" + SECRET.encode()),
)

item = st.one_of(valid_record.map(lambda d: ("ok", d)), junk_line.map(lambda b: ("junk", b)))


def oracle(fields: dict[str, object], events: list[ConsentEvent] | None, at_s: int) -> bool:
    """May this record be exported? Straight from the issue's words."""
    if fields["kind"] not in ("public_post", "comment", "profile"):
        return False
    if fields.get("private_chat") or fields.get("private_processing"):
        return False
    age, band = fields.get("author_age"), fields.get("author_age_band")
    if age is None and band is None:
        return False
    if age is not None and age < 18:  # type: ignore[operator]
        return False
    if band is not None and band != "18_plus":
        return False
    if not events:
        return False
    state = state_at(events, T0 + timedelta(seconds=at_s))
    if state is ConsentState.UNSET:
        return events[-1].region not in ASK_REQUIRED
    return state is ConsentState.GRANTED


@given(
    regions=st.lists(st.sampled_from(REGIONS), min_size=4, max_size=4),
    histories=st.lists(changes, min_size=4, max_size=4),
    items=st.lists(item, max_size=40),
    at_s=st.integers(min_value=-5, max_value=110),
    batch=st.integers(min_value=1, max_value=7),
)
def test_exports_exactly_the_eligible_records(
    regions: list[str],
    histories: list[list[tuple[int, ConsentState]]],
    items: list[tuple[str, object]],
    at_s: int,
    batch: int,
) -> None:
    chains = {
        account: history(account, region, hist)
        for account, region, hist in zip(ACCOUNTS, regions, histories, strict=True)
    }
    at = T0 + timedelta(seconds=at_s)
    lines = [line(**v) if kind == "ok" else v + b"\n" for kind, v in items]  # type: ignore[arg-type, operator]
    exporter = Exporter(lookup_at(chains, at), batch=batch)
    out = list(exporter.filter(lines))

    expected = [
        raw
        for (kind, v), raw in zip(items, lines, strict=True)
        if kind == "ok" and oracle(v, chains.get(v["account"]), at_s)  # type: ignore[index, arg-type]
    ]
    assert out == expected

    for raw in out:
        rec = json.loads(raw)
        assert rec["kind"] not in ("private_message", "ai_request")
        assert not rec.get("private_processing")
        assert not rec.get("private_chat")
        assert rec.get("author_age") is None or rec["author_age"] >= 18
        assert rec.get("author_age_band") in (None, "18_plus")
        assert state_at(chains[rec["account"]], at) is not ConsentState.REFUSED

    report = exporter.report()
    assert report.read == len(lines)
    assert report.written == len(out)
    assert report.excluded["malformed"] == sum(1 for kind, _ in items if kind == "junk")
    assert SECRET not in json.dumps(report.as_dict())


@given(
    now_s=st.integers(min_value=0, max_value=60),
    region=st.sampled_from(REGIONS),
)
def test_grant_refuse_grant_uses_the_state_at_export_time(now_s: int, region: str) -> None:
    chains = {
        "a0": history(
            "a0",
            region,
            [(10, ConsentState.GRANTED), (20, ConsentState.REFUSED), (30, ConsentState.GRANTED)],
        )
    }
    rec = line(
        account="a0", kind="comment", created="2025-01-01T00:00:00Z", author_age=40, text=SECRET
    )
    exporter = Exporter(lookup_at(chains, T0 + timedelta(seconds=now_s)))
    out = list(exporter.filter([rec]))
    if now_s < 10:  # never asked yet: the region's rule
        assert (out == [rec]) == (region not in ASK_REQUIRED)
    elif now_s < 20 or now_s >= 30:
        assert out == [rec]
    else:
        assert out == []
        assert exporter.report().excluded["consent_granted"] == 1


def test_a_minor_at_creation_stays_excluded_after_growing_up() -> None:
    chains = {"a0": history("a0", "US", [(1, ConsentState.GRANTED)])}
    teen = line(account="a0", kind="public_post", created="2020-01-01T00:00:00Z", author_age=15)
    adult = line(account="a0", kind="public_post", created="2026-01-01T00:00:00Z", author_age=21)
    exporter = Exporter(lookup_at(chains, T0 + timedelta(days=1)))
    assert list(exporter.filter([teen, adult])) == [adult]
    assert exporter.report().excluded["adult_at_creation"] == 1


def test_report_counts_first_rule_and_every_rule() -> None:
    exporter = Exporter(lookup_at({}, T0))
    pm = line(account="a0", kind="private_message", created="2026-01-01T00:00:00Z", author_age=9)
    list(exporter.filter([pm, b"junk"]))
    report = exporter.report()
    assert report == ExportReport(
        read=2,
        written=0,
        excluded={
            "malformed": 1,
            "public_kind": 1,
            "never_private": 0,
            "adult_at_creation": 0,
            "consent_granted": 0,
        },
        failed={
            "malformed": 1,
            "public_kind": 1,
            "never_private": 1,
            "adult_at_creation": 1,
            "consent_granted": 1,
        },
    )
    assert report.as_dict()["excluded_total"] == 2


def test_overlong_lines_are_bounded_and_malformed() -> None:
    good = line(account="a0", kind="comment", created="2026-01-01T00:00:00Z", author_age=40)
    long_line = line(
        account="a0", kind="comment", created="2026-01-01T00:00:00Z", author_age=40, text="x" * 500
    )
    stream = io.BytesIO(good + long_line + good + b"{" * 1000 + b"\n" + good.rstrip(b"\n"))
    read = list(iter_lines(stream, max_line=200))
    assert [len(r) <= 202 for r in read] == [True] * 5
    chains = {"a0": history("a0", "US", [])}
    exporter = Exporter(lookup_at(chains, T0), max_line=200)
    assert list(exporter.filter(read)) == [good, good, good]
    assert exporter.report().excluded["malformed"] == 2


def test_report_mid_stream_adds_up() -> None:
    chains = {"a0": history("a0", "US", [])}
    rec = line(account="a0", kind="comment", created="2026-01-01T00:00:00Z", author_age=40)
    exporter = Exporter(lookup_at(chains, T0), batch=3)
    stream = exporter.filter([rec, b"junk", rec, rec, rec])
    assert next(stream) == rec
    mid = exporter.report()
    assert (mid.read, mid.written) == (2, 1)
    assert len(list(stream)) == 3
    assert (exporter.report().read, exporter.report().written) == (5, 4)


def test_consent_duplicate_keys_are_malformed_never_judged_on_one_value() -> None:
    """``{"kind":"private_message", ..., "kind":"public_post"}`` is refused as malformed
    (a last-value-wins parser would judge it public and write it verbatim)."""
    chains = {"a0": history("a0", "US", [(1, ConsentState.GRANTED)])}
    head = b'{"account":"a0","created":"2026-01-01T00:00:00Z","author_age":40,'
    smuggled = [
        head + b'"kind":"private_message","text":"' + SECRET.encode() + b'","kind":"public_post"}',
        head + b'"kind":"public_post","private_chat":true,"private_chat":false}',
        head + b'"kind":"public_post","meta":{"a":1,"a":2}}',  # nested objects too
        head + b'"kind":"public_post","score":NaN}',  # not JSON, cannot be re-serialized
        head + b'"kind":"public_post","text":"\\ud800"}',  # lone surrogate: no UTF-8
    ]
    exporter = Exporter(lookup_at(chains, T0 + timedelta(days=1)))
    assert list(exporter.filter(smuggled)) == []
    report = exporter.report()
    assert report.excluded["malformed"] == len(smuggled)
    assert SECRET not in json.dumps(report.as_dict())
    with pytest.raises(DecodeError) as info:
        parse_record(smuggled[0])
    assert "duplicate key" in str(info.value)
    assert SECRET not in str(info.value)
    assert "kind" not in str(info.value)  # the key is not named either


def test_consent_duplicate_keys_export_writes_the_canonical_record_not_the_input() -> None:
    chains = {"a0": history("a0", "US", [(1, ConsentState.GRANTED)])}
    raw = (
        b'{ "text" : "caf\\u00e9",  "kind": "public_post", "author_age": 40,'
        b' "created": "2026-01-01T00:00:00Z", "account": "a0" }\r\n'
    )
    exporter = Exporter(lookup_at(chains, T0 + timedelta(days=1)))
    [out] = list(exporter.filter([raw]))
    assert (
        out
        == (
            '{"account":"a0","author_age":40,"created":"2026-01-01T00:00:00Z",'
            '"kind":"public_post","text":"café"}\n'
        ).encode()
    )
    assert json.loads(out) == json.loads(raw)


def test_consent_duplicate_keys_refused_in_service_bodies() -> None:
    assert loads_strict(b'{"a":1}', "body") == {"a": 1}
    for bad in (b'{"state":"refused","state":"granted"}', b"[NaN]", b"{", "\ud800"):
        with pytest.raises(DecodeError):
            loads_strict(bad, "body")
