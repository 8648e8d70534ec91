"""Fuzzing the report parsers: random and mutated input gives typed errors only."""

from __future__ import annotations

from collections.abc import Callable
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
from tests._vectors import load_json, vector_path

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


def _snp_parses_consistently_or_refuses(data: bytes) -> None:
    """DecodeError, or a report whose fields are the bytes at their 56860 offsets."""
    try:
        r = parse_report(data)
    except DecodeError:
        return
    assert len(data) == REPORT_SIZE
    assert r.signed == data[:0x2A0]
    assert (r.report_data, r.measurement, r.chip_id) == (
        data[0x50:0x90],
        data[0x90:0xC0],
        data[0x1A0:0x1E0],
    )
    assert r.reported_tcb == int.from_bytes(data[0x180:0x188], "little")


@given(st.binary(max_size=2 * REPORT_SIZE))
def test_snp_random_bytes(data: bytes) -> None:
    _snp_parses_consistently_or_refuses(data)


@given(st.binary(min_size=REPORT_SIZE, max_size=REPORT_SIZE))
def test_snp_random_report_sized(data: bytes) -> None:
    _snp_parses_consistently_or_refuses(data)


@given(_mutations)
def test_snp_mutated_parse(changes: list[tuple[int, int]]) -> None:
    _snp_parses_consistently_or_refuses(_mutate(changes))


@given(_mutations)
def test_snp_mutated_verify_raises_only_attestation_errors(changes: list[tuple[int, int]]) -> None:
    # Even a no-op mutation is refused: the policy allows no measurement.
    with pytest.raises(AttestationError) as info:
        verify_report(_mutate(changes), VCEK, None, policy=POLICY, now=NOW)
    assert info.value.check.startswith(("sevsnp.report.", "policy.measurement"))


def _sim_parses_consistently_or_refuses(data: bytes) -> None:
    try:
        r = parse_sim(data)
    except DecodeError:
        return
    assert len(data) == SIM_SIZE
    assert (r.signed, r.report_data, r.measurement) == (
        data[:0xC8],
        data[0x18:0x58],
        data[0x58:0x88],
    )


@given(st.binary(max_size=2 * SIM_SIZE))
def test_simulated_random_bytes(data: bytes) -> None:
    _sim_parses_consistently_or_refuses(data)


@given(st.binary(min_size=SIM_SIZE, max_size=SIM_SIZE))
def test_simulated_random_report_sized(data: bytes) -> None:
    _sim_parses_consistently_or_refuses(data)


@given(st.binary(max_size=3000))
def test_vcek_garbage_gives_typed_error(data: bytes) -> None:
    with pytest.raises(AttestationError) as info:
        verify_report(REPORT, data, None, policy=POLICY, now=NOW)
    assert info.value.check.startswith("sevsnp.vcek")


def _check_of(fn: Callable[[], object]) -> str | None:
    """The check an AttestationError names, or None when ``fn`` succeeds; anything
    else propagates and fails the test."""
    try:
        fn()
    except AttestationError as exc:
        return exc.check
    return None


_CHAIN_PEM = vector_path("attestation", "sev-snp", "ask_ark_milan.pem").read_bytes()
_MATCHING = Policy(measurements=frozenset({REPORT[0x90:0xC0]}), allow_debug=True)


def _mutated(data: bytes, changes: list[tuple[int, int]]) -> bytes:
    raw = bytearray(data)
    for offset, value in changes:
        raw[offset % len(raw)] = value
    return bytes(raw)


_edits = st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=3)


@given(_edits)
def test_mutated_vcek_gives_typed_errors_or_same_signed_content(
    changes: list[tuple[int, int]],
) -> None:
    # Found by fuzzing: cryptography parses some fields lazily and raises ValueError,
    # TypeError, DuplicateExtension, InvalidVersion or a UserWarning; all must surface
    # as sevsnp.vcek.format.
    vcek = _mutated(VCEK, changes)
    check = _check_of(lambda: verify_report(REPORT, vcek, None, policy=_MATCHING, now=NOW))
    if check is not None:
        assert check.startswith("sevsnp.")
        return
    # Accepted only if the signed part (TBSCertificate) is untouched.
    from privproc.attestation._x509 import load_der

    assert load_der(vcek, "x").tbs_certificate_bytes == load_der(VCEK, "x").tbs_certificate_bytes


@given(_edits)
def test_mutated_chain_gives_typed_errors(changes: list[tuple[int, int]]) -> None:
    from privproc.attestation.sevsnp.certs import Chain

    def attempt() -> None:
        chain = Chain.from_pem(_mutated(_CHAIN_PEM, changes))
        verify_report(REPORT, VCEK, chain, policy=_MATCHING, now=NOW)

    check = _check_of(attempt)
    assert check is None or check.startswith("sevsnp.")


_REGRESSIONS = load_json("attestation", "vcek_parse_regressions.json")["cases"]


@pytest.mark.parametrize("name", sorted(_REGRESSIONS))
def test_vcek_parse_regressions(name: str) -> None:
    import warnings

    from cryptography import x509

    vcek = _mutated(VCEK, [tuple(c) for c in _REGRESSIONS[name]])

    def naive() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cert = x509.load_der_x509_certificate(vcek)
            _ = (cert.issuer, cert.subject, cert.signature_hash_algorithm, cert.public_key())
            _ = list(cert.extensions)

    with pytest.raises(Exception):  # noqa: B017, PT011  (the bug: any of several types)
        naive()
    assert _check_of(lambda: verify_report(REPORT, vcek, None, policy=_MATCHING, now=NOW)) == (
        "sevsnp.vcek.format"
    )
