"""AMD CRL checks (KDS ``/vcek/v1/{product}/crl``) with the throw-away hierarchy."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TypedDict

import pytest

from privproc.attestation import Policy, Tcb
from privproc.attestation.sevsnp.certs import Product
from privproc.attestation.sevsnp.verify import VerifiedReport, verify_report
from privproc.errors import AttestationError

from .snp_synth import START, FakeAmd, crl, make


class _Window(TypedDict):
    """The validity window ``crl`` takes as keywords."""

    last: datetime
    next_: datetime | None


NOW = START + timedelta(days=30)
TCB = Tcb(bootloader=9, tee=0, snp=21, microcode=209)
MEAS = bytes(48)


@pytest.fixture(scope="module")
def amd() -> FakeAmd:
    return make(Product.GENOA, TCB, bytes(range(64)))


def _verify(amd: FakeAmd, crl_der: bytes | None) -> VerifiedReport:
    report = amd.report(report_data=bytes(64), measurement=MEAS)
    return verify_report(
        report,
        amd.endorsements[0],
        amd.chain,
        policy=Policy(measurements=frozenset({MEAS})),
        now=NOW,
        crl=crl_der,
    )


def _refused(amd: FakeAmd, crl_der: bytes, check: str) -> None:
    with pytest.raises(AttestationError) as info:
        _verify(amd, crl_der)
    assert info.value.check == check, str(info.value)


def test_current_crl_without_our_serials_passes(
    amd: FakeAmd, monkeypatch: pytest.MonkeyPatch
) -> None:
    amd.pin(monkeypatch)
    window: _Window = {"last": NOW - timedelta(days=1), "next_": NOW + timedelta(days=1)}
    verified = _verify(amd, crl(amd, [12345], **window))
    assert (verified.product, verified.tcb, verified.measurement) == (Product.GENOA, TCB, MEAS)


def test_revoked_vcek_and_ask(amd: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    amd.pin(monkeypatch)
    window: _Window = {"last": NOW - timedelta(days=1), "next_": NOW + timedelta(days=1)}
    _refused(amd, crl(amd, [amd.vcek.serial_number], **window), "sevsnp.vcek.revoked")
    _refused(amd, crl(amd, [amd.chain.ask.serial_number], **window), "sevsnp.ask.revoked")


def test_stale_or_future_crl(amd: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    amd.pin(monkeypatch)
    _refused(
        amd,
        crl(amd, [], last=NOW - timedelta(days=9), next_=NOW - timedelta(days=1)),
        "sevsnp.crl.validity",
    )
    _refused(
        amd,
        crl(amd, [], last=NOW + timedelta(days=1), next_=NOW + timedelta(days=9)),
        "sevsnp.crl.validity",
    )


def test_crl_signed_by_someone_else(amd: FakeAmd, monkeypatch: pytest.MonkeyPatch) -> None:
    amd.pin(monkeypatch)
    window: _Window = {"last": NOW - timedelta(days=1), "next_": NOW + timedelta(days=1)}
    _refused(amd, crl(amd, [], signer=amd.ask_key, **window), "sevsnp.crl.signature")
    _refused(amd, b"\x30\x03\x02\x01\x00", "sevsnp.crl.format")
