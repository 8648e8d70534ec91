"""Fuzzing the report parsers: random and mutated input gives typed errors only."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.attestation import Policy
from privproc.attestation.sevsnp.report import REPORT_SIZE, parse_report
from privproc.attestation.sevsnp.verify import verify_report
from privproc.attestation.simulated.report import REPORT_SIZE as SIM_SIZE
from privproc.attestation.simulated.report import parse_report as parse_sim
from privproc.errors import AttestationError, DecodeError
from tests._vectors import vector_path

REPORT = vector_path("attestation", "sev-snp", "attestation.bin").read_bytes()
VCEK = vector_path("attestation", "sev-snp", "vcek.der").read_bytes()
NOW = datetime(2023, 1, 1, tzinfo=UTC)
POLICY = Policy(measurements=frozenset(), allow_debug=True)

_mutations = st.lists(
    st.tuples(st.integers(0, REPORT_SIZE - 1), st.integers(0, 255)), min_size=1, max_size=8
)


def _mutate(changes: list[tuple[int, int]]) -> bytes:
    raw = bytearray(REPORT)
    for offset, value in changes:
        raw[offset] = value
    return bytes(raw)


@given(st.binary(max_size=2 * REPORT_SIZE))
def test_snp_random_bytes(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse_report(data)


@given(st.binary(min_size=REPORT_SIZE, max_size=REPORT_SIZE))
def test_snp_random_report_sized(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse_report(data)


@given(_mutations)
def test_snp_mutated_parse(changes: list[tuple[int, int]]) -> None:
    with contextlib.suppress(DecodeError):
        parse_report(_mutate(changes))


@given(_mutations)
def test_snp_mutated_verify_raises_only_attestation_errors(changes: list[tuple[int, int]]) -> None:
    # Even a no-op mutation is refused: the policy allows no measurement.
    with pytest.raises(AttestationError) as info:
        verify_report(_mutate(changes), VCEK, None, policy=POLICY, now=NOW)
    assert info.value.check.startswith(("sevsnp.report.", "policy.measurement"))


@given(st.binary(max_size=2 * SIM_SIZE))
def test_simulated_random_bytes(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse_sim(data)


@given(st.binary(min_size=SIM_SIZE, max_size=SIM_SIZE))
def test_simulated_random_report_sized(data: bytes) -> None:
    with contextlib.suppress(DecodeError):
        parse_sim(data)


@given(st.binary(max_size=3000))
def test_vcek_garbage_gives_typed_error(data: bytes) -> None:
    with pytest.raises(AttestationError) as info:
        verify_report(REPORT, data, None, policy=POLICY, now=NOW)
    assert info.value.check.startswith("sevsnp.vcek")
