"""The hash-chained consent history and the signed receipts."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from privproc.consent.events import (
    GENESIS,
    ConsentEvent,
    ConsentState,
    new_event,
    state_at,
    verify_chain,
)
from privproc.consent.receipt import Receipt, b64url, issue_receipt, verify_receipt
from privproc.errors import DecodeError, MisuseError, VerificationError

from ._consent_data import T0, history

G, R = ConsentState.GRANTED, ConsentState.REFUSED


def test_chain_links_and_verifies() -> None:
    events = history("u1", "DE", [(10, G), (20, R), (30, G)])
    assert events[0].prev == GENESIS
    assert [e.seq for e in events] == [0, 1, 2, 3]
    assert all(b.prev == a.hash for a, b in itertools.pairwise(events))
    assert verify_chain(events, account="u1") == events[-1]
    assert verify_chain([], account="u1") is None
    assert [ConsentEvent.from_json(e.to_json()) for e in events] == events


def test_state_at_follows_grant_refuse_grant() -> None:
    events = history("u1", "DE", [(10, G), (20, R), (30, G)])
    assert state_at(events, T0 - timedelta(seconds=1)) is ConsentState.UNSET
    assert state_at(events, T0 + timedelta(seconds=5)) is ConsentState.UNSET
    assert state_at(events, T0 + timedelta(seconds=10)) is G
    assert state_at(events, T0 + timedelta(seconds=25)) is R
    assert state_at(events, T0 + timedelta(seconds=99)) is G


def test_time_never_goes_back() -> None:
    first = new_event(None, account="u1", state=G, source="user", region="US", now=T0)
    second = new_event(
        first, account="u1", state=R, source="objection", region="US", now=T0 - timedelta(days=1)
    )
    assert second.time == first.time


@pytest.mark.parametrize(
    ("tamper", "check"),
    [
        (lambda ev: [ev[0], ev[2], ev[3]], "consent.chain.seq"),
        (lambda ev: [ev[0], ev[2], ev[1], ev[3]], "consent.chain.seq"),
        (lambda ev: [*ev[:2], dataclasses.replace(ev[2], state=G), ev[3]], "consent.chain.hash"),
        (lambda ev: [*ev[:3], dataclasses.replace(ev[3], prev=GENESIS)], "consent.chain.prev"),
        (lambda ev: [*ev[:3], dataclasses.replace(ev[3], account="u2")], "consent.chain.account"),
        (
            lambda ev: [
                *ev[:3],
                dataclasses.replace(ev[3], time=ev[2].time - timedelta(seconds=1), hash=GENESIS),
            ],
            "consent.chain.hash",
        ),
    ],
)
def test_tampering_is_detected_and_named(tamper: object, check: str) -> None:
    events = history("u1", "DE", [(10, G), (20, R), (30, G)])
    with pytest.raises(VerificationError) as info:
        verify_chain(tamper(events), account="u1")  # type: ignore[operator]
    assert info.value.check == check


def test_rewritten_time_with_recomputed_hash_breaks_the_next_link() -> None:
    events = history("u1", "DE", [(10, G), (20, R), (30, G)])
    moved = dataclasses.replace(events[2], time=events[2].time + timedelta(seconds=50))
    moved = dataclasses.replace(moved, hash=moved.computed_hash())
    with pytest.raises(VerificationError) as info:
        verify_chain([events[0], events[1], moved, events[3]], account="u1")
    assert info.value.check == "consent.chain.prev"


def test_event_from_json_refuses_junk() -> None:
    junk: object
    for junk in (None, [], {}, {"seq": "1"}, {**history("u1", "US", [])[0].to_json(), "seq": True}):
        with pytest.raises(DecodeError):
            ConsentEvent.from_json(junk)


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_receipt_signs_and_verifies() -> None:
    key = Ed25519PrivateKey.generate()
    event = history("u1", "DE", [(10, R)])[-1]
    receipt = issue_receipt(event, key)
    assert receipt.event_hash == event.hash
    assert receipt.state is R
    again = Receipt.from_json(receipt.to_json())
    assert verify_receipt(again, _raw(key)) == receipt


def test_receipt_forgery_and_other_key_are_refused() -> None:
    key = Ed25519PrivateKey.generate()
    receipt = issue_receipt(history("u1", "DE", [(10, R)])[-1], key)
    forged = dataclasses.replace(receipt, state=G)
    with pytest.raises(VerificationError) as info:
        verify_receipt(forged, _raw(key))
    assert info.value.check == "consent.receipt.signature"
    with pytest.raises(VerificationError) as info:
        verify_receipt(receipt, _raw(Ed25519PrivateKey.generate()))
    assert info.value.check == "consent.receipt.key"
    with pytest.raises(VerificationError):
        verify_receipt(receipt, b"short")
    with pytest.raises(DecodeError):
        Receipt.from_json({**receipt.to_json(), "signature": "!!"})


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)
_EVENT = history("u1", "DE", [(10, R)])[-1].to_json()
_RECEIPT = issue_receipt(history("u1", "DE", [(10, R)])[-1], Ed25519PrivateKey.generate()).to_json()


@given(st.sampled_from(sorted(_EVENT)), _JSON_VALUES)
def test_event_from_json_raises_only_decode_error(field: str, value: object) -> None:
    """One field of a valid event replaced by any JSON value: an event or DecodeError."""
    with contextlib.suppress(DecodeError):
        ConsentEvent.from_json({**_EVENT, field: value})


@given(st.sampled_from(sorted(_RECEIPT)), _JSON_VALUES)
def test_receipt_from_json_raises_only_decode_error(field: str, value: object) -> None:
    with contextlib.suppress(DecodeError):
        Receipt.from_json({**_RECEIPT, field: value})


@given(st.dictionaries(st.text(max_size=12), _JSON_VALUES, max_size=8) | _JSON_VALUES)
def test_from_json_on_anything_raises_only_decode_error(obj: object) -> None:
    for read in (ConsentEvent.from_json, Receipt.from_json):
        with contextlib.suppress(DecodeError):
            read(obj)


@pytest.mark.parametrize(
    ("field", "value"),
    [("seq", -1), ("event_hash", "ab"), ("key_id", "XYZ"), ("time", "yesterday"),
     ("signature", b64url(b"short"))],
)  # fmt: skip
def test_receipt_is_checked_when_made(field: str, value: object) -> None:
    """A receipt with a bad field is refused when read, before any signature check."""
    with pytest.raises(DecodeError):
        Receipt.from_json({**_RECEIPT, field: value})
    changes: dict[str, Any] = {field: value}
    with pytest.raises(MisuseError):
        dataclasses.replace(Receipt.from_json(_RECEIPT), **changes)
