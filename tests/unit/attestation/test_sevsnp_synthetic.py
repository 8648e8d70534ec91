"""SEV-SNP Evidence end to end with a throw-away AMD-like hierarchy (snp_synth.py):
v3 reports, Turin's TCB layout and 8-byte hwID, bound node keys."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from privproc.attestation import Evidence, Platform, Policy, Tcb, binding, freshness_value, verify
from privproc.attestation.sevsnp.certs import Product
from privproc.errors import AttestationError

from .snp_synth import START, FakeAmd, make

NOW = START + timedelta(days=30)
KEY = b"\x04" + bytes(range(64))
MEAS = bytes([7]) * 48
TURIN_TCB = Tcb(bootloader=1, tee=2, snp=3, microcode=4, fmc=5)
GENOA_TCB = Tcb(bootloader=9, tee=0, snp=21, microcode=209)


@pytest.fixture(scope="module")
def turin() -> FakeAmd:
    return make(Product.TURIN, TURIN_TCB, bytes(range(1, 9)))


@pytest.fixture(scope="module")
def genoa() -> FakeAmd:
    return make(Product.GENOA, GENOA_TCB, bytes(range(64)))


def _evidence(amd: FakeAmd, **kw: object) -> Evidence:
    ts = NOW - timedelta(minutes=1)
    fresh = freshness_value(ts)
    report = amd.report(report_data=binding(KEY, fresh), measurement=MEAS, **kw)  # type: ignore[arg-type]
    return Evidence(Platform.SEV_SNP, report, amd.endorsements, KEY, fresh, ts)


def _policy(tcb: Tcb) -> Policy:
    return Policy(measurements=frozenset({MEAS}), min_tcb=tcb, max_age=timedelta(hours=1))


def _refused(ev: Evidence, policy: Policy, check: str) -> None:
    with pytest.raises(AttestationError) as info:
        verify(ev, policy=policy, now=NOW)
    assert info.value.check == check, str(info.value)


@pytest.mark.parametrize("product", ["turin", "genoa"])
def test_accepts_bound_v3_evidence(
    product: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    amd: FakeAmd = request.getfixturevalue(product)
    amd.pin(monkeypatch)
    node = verify(Evidence.decode(_evidence(amd).encode()), policy=_policy(amd.tcb), now=NOW)
    assert node.node_key == KEY
    assert node.tcb == amd.tcb
    assert node.measurement == MEAS
    assert node.chip_id == amd.chip_id


def test_turin_tcb_layout_and_fmc_minimum(turin: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    turin.pin(monkeypatch)
    assert TURIN_TCB.to_u64().to_bytes(8, "little") == bytes([5, 1, 2, 3, 0, 0, 0, 4])
    higher = dataclasses.replace(TURIN_TCB, fmc=6)
    _refused(_evidence(turin), _policy(higher), "policy.tcb")


def test_refuses_report_claiming_other_tcb(turin: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    turin.pin(monkeypatch)
    claimed = dataclasses.replace(TURIN_TCB, microcode=99)
    _refused(_evidence(turin, reported_tcb=claimed), _policy(TURIN_TCB), "sevsnp.report.tcb")


def test_refuses_v2_report_from_turin(turin: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    turin.pin(monkeypatch)
    _refused(_evidence(turin, version=2), _policy(TURIN_TCB), "sevsnp.report.product")


def test_refuses_cpuid_of_other_product(genoa: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    genoa.pin(monkeypatch)
    _refused(_evidence(genoa, cpuid=(0x19, 0x01, 0)), _policy(GENOA_TCB), "sevsnp.report.product")


def test_refuses_other_chip_id(genoa: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    genoa.pin(monkeypatch)
    _refused(_evidence(genoa, chip_id=bytes(64)), _policy(GENOA_TCB), "sevsnp.report.chip_id")


def test_refuses_vlek_signed(genoa: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    genoa.pin(monkeypatch)
    _refused(_evidence(genoa, signing_key=1), _policy(GENOA_TCB), "sevsnp.report.signing_key")


def test_refuses_debug_unbound_and_stale(genoa: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    genoa.pin(monkeypatch)
    _refused(_evidence(genoa, debug=True), _policy(GENOA_TCB), "policy.debug")
    _refused(
        dataclasses.replace(_evidence(genoa), node_key=b"\x04" * 65),
        _policy(GENOA_TCB),
        "binding.report_data",
    )
    old = dataclasses.replace(_policy(GENOA_TCB), max_age=timedelta(seconds=10))
    _refused(_evidence(genoa), old, "policy.freshness")


def test_unpinned_hierarchy_is_refused(genoa: FakeAmd) -> None:
    # Without the test pin the throw-away ARK is not AMD's.
    _refused(_evidence(genoa), _policy(GENOA_TCB), "sevsnp.ark.pin")


def test_endorsement_count_must_be_1_or_3(genoa: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    genoa.pin(monkeypatch)
    ev = _evidence(genoa)
    _refused(
        dataclasses.replace(ev, endorsements=ev.endorsements[:2]),
        _policy(GENOA_TCB),
        "sevsnp.vcek.format",
    )
