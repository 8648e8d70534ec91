"""The simulated platform: accepted evidence, and the catalog of refusals.

Every refusal raises AttestationError naming its check; no test only asserts
"some error".
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privproc.attestation import Evidence, Platform, Policy, Tcb, binding, freshness_value, verify
from privproc.attestation.simulated import SimulatedMachine, SimulatedVendor
from privproc.attestation.simulated.report import SIGNED_SIZE
from privproc.errors import AttestationError

from .conftest import CHIP_ID, MEASUREMENT, NODE_KEY, NOW, T0, TCB


def _ev(machine: SimulatedMachine, **kw: object) -> Evidence:
    args: dict[str, object] = {
        "node_key": NODE_KEY,
        "measurement": MEASUREMENT,
        "timestamp": NOW - timedelta(minutes=5),
    }
    args.update(kw)
    return machine.evidence(**args)  # type: ignore[arg-type]


def _refused(ev: Evidence, policy: Policy, check: str, **kw: object) -> AttestationError:
    with pytest.raises(AttestationError) as info:
        verify(ev, policy=policy, now=NOW, **kw)  # type: ignore[arg-type]
    assert info.value.check == check, str(info.value)
    return info.value


def test_accepts_good_evidence(machine: SimulatedMachine, policy: Policy) -> None:
    ev = _ev(machine)
    node = verify(Evidence.decode(ev.encode()), policy=policy, now=NOW)
    assert node.node_key == NODE_KEY
    assert node.measurement == MEASUREMENT
    assert node.tcb == TCB
    assert node.chip_id == CHIP_ID
    assert node.debug is False
    assert node.platform is Platform.SIMULATED
    assert node.timestamp == ev.timestamp


def test_accepts_with_requested_nonce(machine: SimulatedMachine, policy: Policy) -> None:
    ev = _ev(machine, nonce=b"device-nonce")
    assert verify(ev, policy=policy, now=NOW, nonce=b"device-nonce").node_key == NODE_KEY


def test_refuses_wrong_root(machine: SimulatedMachine, policy: Policy) -> None:
    other = SimulatedVendor.from_seed(b"another vendor", not_before=T0, name="other root")
    _refused(
        _ev(machine),
        dataclasses.replace(policy, simulated_roots=(other.root_der,)),
        "simulated.root",
    )


def test_refuses_same_name_root_with_other_key(machine: SimulatedMachine, policy: Policy) -> None:
    impostor = SimulatedVendor.from_seed(b"impostor", not_before=T0)  # same subject name
    _refused(
        _ev(machine),
        dataclasses.replace(policy, simulated_roots=(impostor.root_der,)),
        "simulated.endorsement.chain",
    )


def test_refuses_when_no_root_trusted(machine: SimulatedMachine, policy: Policy) -> None:
    _refused(_ev(machine), dataclasses.replace(policy, simulated_roots=()), "simulated.root")


def test_refuses_bad_signature(machine: SimulatedMachine, policy: Policy) -> None:
    ev = _ev(machine)
    report = bytearray(ev.report)
    report[-1] ^= 1
    _refused(dataclasses.replace(ev, report=bytes(report)), policy, "simulated.report.signature")


def test_refuses_report_signed_by_another_machine(
    vendor: SimulatedVendor, machine: SimulatedMachine, policy: Policy
) -> None:
    other = vendor.machine(chip_id=bytes(64), tcb=TCB)
    ev = dataclasses.replace(_ev(machine), endorsements=(other.certificate_der,))
    _refused(ev, policy, "simulated.report.signature")


def test_refuses_debug(machine: SimulatedMachine, policy: Policy) -> None:
    ev = _ev(machine, debug=True)
    _refused(ev, policy, "policy.debug")
    assert verify(ev, policy=dataclasses.replace(policy, allow_debug=True), now=NOW).debug


@pytest.mark.parametrize("component", ["bootloader", "tee", "snp", "microcode"])
def test_refuses_tcb_too_low(machine: SimulatedMachine, policy: Policy, component: str) -> None:
    higher = dataclasses.replace(TCB, **{component: getattr(TCB, component) + 1})
    err = _refused(_ev(machine), dataclasses.replace(policy, min_tcb=higher), "policy.tcb")
    assert component in str(err)


def test_tcb_comes_from_certificate_not_report(machine: SimulatedMachine, policy: Policy) -> None:
    # The report claims a higher TCB than the certificate endorses: refused.
    claimed = dataclasses.replace(TCB, microcode=TCB.microcode + 10)
    ev = _ev(machine)
    fake = machine.report(
        measurement=MEASUREMENT, report_data=binding(NODE_KEY, ev.freshness), reported_tcb=claimed
    )
    _refused(dataclasses.replace(ev, report=fake), policy, "simulated.report.tcb")


def test_refuses_stale(machine: SimulatedMachine, policy: Policy) -> None:
    _refused(_ev(machine, timestamp=NOW - timedelta(hours=2)), policy, "policy.freshness")


def test_refuses_future(machine: SimulatedMachine, policy: Policy) -> None:
    _refused(_ev(machine, timestamp=NOW + timedelta(hours=1)), policy, "policy.freshness")


def test_refuses_key_not_bound(machine: SimulatedMachine, policy: Policy) -> None:
    ev = dataclasses.replace(_ev(machine), node_key=b"\x04" + bytes(64))
    _refused(ev, policy, "binding.report_data")


def test_refuses_freshness_mismatch(machine: SimulatedMachine, policy: Policy) -> None:
    ev = _ev(machine)
    # A relabelled timestamp (to look newer) no longer matches the signed freshness value.
    _refused(
        dataclasses.replace(ev, timestamp=ev.timestamp + timedelta(seconds=30)),
        policy,
        "binding.freshness",
    )
    # Evidence made for another nonce.
    _refused(_ev(machine, nonce=b"old"), policy, "binding.freshness", nonce=b"new")
    # Freshness swapped for another value carrying the same timestamp: binding fails.
    other = freshness_value(ev.timestamp, b"x")
    _refused(dataclasses.replace(ev, freshness=other), policy, "binding.report_data")


def test_refuses_unknown_measurement(machine: SimulatedMachine, policy: Policy) -> None:
    _refused(_ev(machine, measurement=bytes(48)), policy, "policy.measurement")
    _refused(
        _ev(machine), dataclasses.replace(policy, measurements=frozenset()), "policy.measurement"
    )


def test_refuses_expired_endorsement(vendor: SimulatedVendor, policy: Policy) -> None:
    short = vendor.machine(chip_id=CHIP_ID, tcb=TCB, not_before=T0, validity=timedelta(days=1))
    _refused(_ev(short), policy, "simulated.endorsement.validity")


def test_refuses_missing_or_garbage_endorsement(machine: SimulatedMachine, policy: Policy) -> None:
    ev = _ev(machine)
    _refused(dataclasses.replace(ev, endorsements=()), policy, "simulated.endorsement.format")
    _refused(
        dataclasses.replace(ev, endorsements=(b"\x30\x00",)), policy, "simulated.endorsement.format"
    )


def test_refuses_malformed_report(machine: SimulatedMachine, policy: Policy) -> None:
    ev = _ev(machine)
    _refused(dataclasses.replace(ev, report=ev.report[:-1]), policy, "simulated.report.format")


def test_refuses_evidence_relabelled_as_other_platform(
    machine: SimulatedMachine, policy: Policy
) -> None:
    _refused(
        dataclasses.replace(_ev(machine), platform=Platform.TDX), policy, "tdx.collateral.format"
    )
    _refused(
        dataclasses.replace(_ev(machine), platform=Platform.SEV_SNP), policy, "sevsnp.report.format"
    )


def test_vendor_from_seed_is_reproducible() -> None:
    a = SimulatedVendor.from_seed(b"s", not_before=T0)
    b = SimulatedVendor.from_seed(b"s", not_before=T0)
    assert a.root_der == b.root_der
    assert (
        a.machine(chip_id=CHIP_ID, tcb=TCB).certificate_der
        == b.machine(chip_id=CHIP_ID, tcb=Tcb(3, 0, 8, 115)).certificate_der
    )


def test_accepts_when_a_same_named_root_is_also_trusted(
    machine: SimulatedMachine, policy: Policy
) -> None:
    impostor = SimulatedVendor.from_seed(b"impostor", not_before=T0)  # same subject name
    both = dataclasses.replace(policy, simulated_roots=(impostor.root_der, *policy.simulated_roots))
    assert verify(_ev(machine), policy=both, now=NOW).node_key == NODE_KEY


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(0, SIGNED_SIZE + 95), mask=st.integers(1, 255))
def test_refuses_any_changed_report_byte(
    machine: SimulatedMachine, vendor: SimulatedVendor, offset: int, mask: int
) -> None:
    ev = _ev(machine)
    raw = bytearray(ev.report)
    raw[offset] ^= mask
    policy = Policy(measurements=frozenset({MEASUREMENT}), simulated_roots=(vendor.root_der,))
    with pytest.raises(AttestationError) as info:
        verify(dataclasses.replace(ev, report=bytes(raw)), policy=policy, now=NOW)
    assert info.value.check.startswith("simulated.report."), str(info.value)


def test_freshness_with_out_of_range_time_is_refused_not_crashed(
    machine: SimulatedMachine, policy: Policy
) -> None:
    # Found by fuzzing: a freshness value whose first 8 bytes are no representable time
    # made datetime raise OverflowError/ValueError/OSError inside the binding check.
    ev = _ev(machine)
    bad = dataclasses.replace(ev, freshness=b"\xff" * 8 + ev.freshness[8:])
    _refused(bad, policy, "binding.freshness")


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)), min_size=1, max_size=3))
def test_mutated_evidence_bytes_give_typed_errors(
    machine: SimulatedMachine, vendor: SimulatedVendor, changes: list[tuple[int, int]]
) -> None:
    from privproc.attestation._x509 import load_der
    from privproc.errors import DecodeError

    ev = _ev(machine)
    raw = bytearray(ev.encode())
    for offset, value in changes:
        raw[offset % len(raw)] = value
    policy = Policy(measurements=frozenset({MEASUREMENT}), simulated_roots=(vendor.root_der,))
    try:
        got = Evidence.decode(bytes(raw))
        verify(got, policy=policy, now=NOW)
    except (DecodeError, AttestationError):
        return
    # Accepted only if nothing signed or bound changed.
    assert (got.report, got.node_key, got.freshness, got.timestamp) == (
        ev.report,
        ev.node_key,
        ev.freshness,
        ev.timestamp,
    )
    assert load_der(got.endorsements[0], "x").tbs_certificate_bytes == (
        machine.certificate.tbs_certificate_bytes
    )


def test_vendor_repr_hides_its_seed() -> None:
    seed = b"canary-vendor-seed-8a2c"
    vendor = SimulatedVendor.from_seed(seed, not_before=T0)
    machine = vendor.machine(chip_id=CHIP_ID, tcb=TCB)
    shown = repr(vendor) + str(vendor) + repr(machine)
    assert vendor.seed == seed
    assert "canary-vendor-seed" not in shown
    assert seed.hex() not in shown
