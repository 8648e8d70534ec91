"""policy.accept: the checks every platform verifier ends with, in one place."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from privproc.attestation import Evidence, Platform, Policy, Tcb, binding, freshness_value
from privproc.attestation.policy import VerifiedNode, accept
from privproc.errors import AttestationError

from .conftest import MEASUREMENT, NODE_KEY, NOW, TCB

TS = NOW - timedelta(minutes=1)
FRESH = freshness_value(TS)
EVIDENCE = Evidence(Platform.TDX, b"quote", (b"collateral",), NODE_KEY, FRESH, TS)
POLICY = Policy(measurements=frozenset({MEASUREMENT}), min_tcb=TCB)
FIELDS: dict[str, object] = {
    "report_data": binding(NODE_KEY, FRESH),
    "measurement": MEASUREMENT,
    "debug": False,
    "tcb": TCB,
    "chip_id": b"chip",
}


def _accept(
    policy: Policy = POLICY, evidence: Evidence = EVIDENCE, **change: object
) -> VerifiedNode:
    fields = {**FIELDS, **change}
    return accept(evidence, policy=policy, now=NOW, **fields)  # type: ignore[arg-type]


def test_accept_returns_the_verified_fields() -> None:
    node = _accept()
    assert node == accept(
        EVIDENCE,
        report_data=binding(NODE_KEY, FRESH),
        measurement=MEASUREMENT,
        debug=False,
        tcb=TCB,
        chip_id=b"chip",
        policy=POLICY,
        now=NOW,
    )
    assert (node.platform, node.node_key, node.tcb, node.timestamp) == (
        Platform.TDX,
        NODE_KEY,
        TCB,
        TS,
    )


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"report_data": bytes(64)}, "binding.report_data"),
        ({"debug": True}, "policy.debug"),
        ({"tcb": dataclasses.replace(TCB, snp=TCB.snp - 1)}, "policy.tcb"),
        ({"measurement": bytes(48)}, "policy.measurement"),
    ],
)
def test_accept_names_each_failed_check(change: dict[str, object], check: str) -> None:
    with pytest.raises(AttestationError) as info:
        _accept(POLICY, EVIDENCE, **change)
    assert info.value.check == check


def test_accept_checks_freshness_and_nonce() -> None:
    old = dataclasses.replace(EVIDENCE, timestamp=NOW - timedelta(days=2))
    with pytest.raises(AttestationError) as info:
        _accept(evidence=old, report_data=FIELDS["report_data"])
    assert info.value.check == "binding.freshness"  # the timestamp is not the one bound
    with pytest.raises(AttestationError) as info:
        accept(EVIDENCE, policy=POLICY, now=NOW, nonce=b"n", **FIELDS)  # type: ignore[arg-type]
    assert info.value.check == "binding.freshness"
    with pytest.raises(AttestationError) as info:
        _accept(policy=dataclasses.replace(POLICY, max_age=timedelta(seconds=1)))
    assert info.value.check == "policy.freshness"


def test_accept_without_tcb_skips_only_the_tcb_check() -> None:
    high = dataclasses.replace(POLICY, min_tcb=Tcb(bootloader=255, tee=255, snp=255, microcode=255))
    assert _accept(policy=high, tcb=None).tcb is None
    with pytest.raises(AttestationError) as info:
        _accept(policy=high)
    assert info.value.check == "policy.tcb"
