"""Fixtures: one reproducible simulated vendor and machine, a node key, a policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from privproc.attestation import Policy, Tcb
from privproc.attestation.simulated import SimulatedMachine, SimulatedVendor

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
MEASUREMENT = bytes(range(48))
NODE_KEY = bytes.fromhex("04") + bytes(range(1, 65))  # shape of a P-256 HPKE key
CHIP_ID = bytes([0xC1]) * 64
TCB = Tcb(bootloader=3, tee=0, snp=8, microcode=115)


@pytest.fixture(scope="session")
def vendor() -> SimulatedVendor:
    return SimulatedVendor.from_seed(b"privproc tests vendor", not_before=T0)


@pytest.fixture(scope="session")
def machine(vendor: SimulatedVendor) -> SimulatedMachine:
    return vendor.machine(chip_id=CHIP_ID, tcb=TCB)


@pytest.fixture
def policy(vendor: SimulatedVendor) -> Policy:
    return Policy(
        measurements=frozenset({MEASUREMENT}),
        min_tcb=TCB,
        max_age=timedelta(hours=1),
        simulated_roots=(vendor.root_der,),
    )
