"""The TDX backend (dcap-qvl) on real Intel TDX evidence (vectors SOURCES.md)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.attestation import Evidence, Platform, Policy, freshness_value, verify
from privproc.attestation.tdx import td_measurement, verify_quote
from privproc.attestation.tdx.verify import check_tcb_status
from privproc.errors import AttestationError, MisuseError
from tests._vectors import vector_path

pytest.importorskip("dcap_qvl")

D = vector_path("attestation", "tdx")
QUOTE = (D / "tdx_quote").read_bytes()
COLLATERAL = (D / "tdx_quote_collateral.json").read_bytes()
NOW = datetime(2025, 6, 20, tzinfo=UTC)
MR_TD = bytes.fromhex(
    "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538"
)
SIGNED = 48 + 584  # quote header + TD report body: what the attestation key signs


def _refused(
    check: str, quote: bytes = QUOTE, collateral: bytes = COLLATERAL, now: datetime = NOW
) -> None:
    with pytest.raises(AttestationError) as info:
        verify_quote(quote, collateral, now=now)
    assert info.value.check == check, str(info.value)


def test_verifies_real_quote_offline() -> None:
    v = verify_quote(QUOTE, COLLATERAL, now=NOW)
    assert v.status == "UpToDate"
    assert v.mr_td.startswith(MR_TD)
    assert not v.debug
    assert len(v.report_data) == 64
    assert v.report_data == QUOTE[SIGNED - 64 : SIGNED]
    assert v.mr_td == QUOTE[48 + 136 : 48 + 184]
    assert v.measurement == td_measurement(v.mr_td, v.rtmr0, v.rtmr1, v.rtmr2, v.rtmr3)


@pytest.mark.parametrize(
    "when",
    [
        datetime(2025, 6, 1, tzinfo=UTC),
        datetime(2025, 8, 1, tzinfo=UTC),
        datetime(2026, 11, 1, tzinfo=UTC),
    ],
)
def test_refuses_outside_collateral_validity(when: datetime) -> None:
    _refused("tdx.collateral.validity", now=when)


def test_refuses_outdated_platform() -> None:
    quote = (D / "tdx_quote_outdated").read_bytes()
    collateral = (D / "tdx_quote_outdated_collateral.json").read_bytes()
    tcb_info = json.loads(json.loads(collateral)["tcb_info"])
    when = datetime.fromisoformat(tcb_info["issueDate"].replace("Z", "+00:00"))
    _refused("tdx.tcb", quote, collateral, when.replace(day=when.day + 1))


def test_refuses_garbage_collateral() -> None:
    _refused("tdx.collateral.format", collateral=b"{}")
    _refused("tdx.collateral.format", collateral=b"\xff")


@pytest.mark.parametrize("offset", [0, 8, 47, 48, 100, 184, 300, 500, SIGNED - 64, SIGNED - 1])
def test_refuses_changed_signed_byte(offset: int) -> None:
    raw = bytearray(QUOTE)
    raw[offset] ^= 1
    with pytest.raises(AttestationError) as info:
        verify_quote(bytes(raw), COLLATERAL, now=NOW)
    assert info.value.check.startswith("tdx.quote."), str(info.value)


@given(offset=st.integers(0, SIGNED - 1), mask=st.integers(1, 255))
def test_refuses_changed_signed_byte_hypothesis(offset: int, mask: int) -> None:
    raw = bytearray(QUOTE)
    raw[offset] ^= mask
    with pytest.raises(AttestationError) as info:
        verify_quote(bytes(raw), COLLATERAL, now=NOW)
    assert info.value.check.startswith("tdx.")


@given(
    st.lists(st.tuples(st.integers(0, len(QUOTE) - 1), st.integers(0, 255)), max_size=6),
    st.integers(0, len(QUOTE)),
)
def test_mutated_quotes_give_typed_errors_or_the_same_verified_report(
    changes: list[tuple[int, int]], cut: int
) -> None:
    raw = bytearray(QUOTE[:cut])
    for offset, value in changes:
        if offset < len(raw):
            raw[offset] = value
    try:
        v = verify_quote(bytes(raw), COLLATERAL, now=NOW)
    except AttestationError:
        return
    # dcap-qvl tolerates some unsigned slack in the certification data; what it
    # returns must then be exactly what the genuine quote says.
    assert v == verify_quote(QUOTE, COLLATERAL, now=NOW)


def test_policy_checks() -> None:
    v = verify_quote(QUOTE, COLLATERAL, now=NOW)
    check_tcb_status(v, Policy(measurements=frozenset()))
    with pytest.raises(AttestationError) as info:
        check_tcb_status(v, Policy(measurements=frozenset(), tdx_tcb_status=frozenset({"X"})))
    assert info.value.check == "policy.tcb"


def test_evidence_refused_because_sample_binds_no_privproc_key() -> None:
    v = verify_quote(QUOTE, COLLATERAL, now=NOW)
    ts = NOW.replace(microsecond=0)
    ev = Evidence(Platform.TDX, QUOTE, (COLLATERAL,), b"\x04" * 65, freshness_value(ts), ts)
    policy = Policy(measurements=frozenset({v.measurement}))
    with pytest.raises(AttestationError) as info:
        verify(Evidence.decode(ev.encode()), policy=policy, now=NOW)
    assert info.value.check == "binding.report_data"
    with pytest.raises(AttestationError) as info:
        verify(dataclasses.replace(ev, endorsements=()), policy=policy, now=NOW)
    assert info.value.check == "tdx.collateral.format"


def test_td_measurement_is_pinned() -> None:
    import hashlib

    label = b"privproc tdx measurement v1"
    parts = [bytes([i]) * 48 for i in range(5)]
    assert (
        td_measurement(*parts)
        == hashlib.sha384(bytes([len(label)]) + label + b"".join(parts)).digest()
    )
    with pytest.raises(MisuseError):
        td_measurement(b"", *parts[1:])


@given(
    st.lists(
        st.tuples(st.integers(0, len(COLLATERAL) - 1), st.integers(0, 255)), min_size=1, max_size=3
    )
)
def test_mutated_collateral_gives_typed_errors_or_the_same_result(
    changes: list[tuple[int, int]],
) -> None:
    raw = bytearray(COLLATERAL)
    for offset, value in changes:
        raw[offset] = value
    try:
        v = verify_quote(QUOTE, bytes(raw), now=NOW)
    except AttestationError:
        return
    assert v == verify_quote(QUOTE, COLLATERAL, now=NOW)


def test_unexpected_verifier_output_is_refused_not_crashed() -> None:
    # dcap-qvl's JSON is parsed field by field; a non-hex or short field is a refusal
    # (it used to escape as the ValueError of bytes.fromhex).
    from privproc.attestation.tdx.verify import _field

    bodies: tuple[dict[str, object], ...] = ({"mr_td": "zz"}, {"mr_td": "00"}, {"mr_td": 7}, {})
    for body in bodies:
        with pytest.raises(AttestationError) as info:
            _field(body, "mr_td", 48)
        assert info.value.check == "tdx.quote.verify"
    assert _field({"mr_td": "ab" * 48}, "mr_td", 48) == b"\xab" * 48


def test_policy_tdx_statuses_must_be_names() -> None:
    with pytest.raises(MisuseError):
        Policy(measurements=frozenset(), tdx_tcb_status=frozenset({1}))  # type: ignore[arg-type]
