"""Attestation policy, the verified result, and the policy checks all platforms share.

A :class:`Policy` is what the device requires of a node (DESIGN.md, "One
request", step 3): debug off unless explicitly allowed, a minimum TCB (compared
with the TCB read from the endorsement certificate, never the report's
self-description), a measurement on the allow-list (the ledger provides it), and
evidence no older than ``max_age``.

Each check raises :class:`~privproc.errors.AttestationError` naming itself:
``policy.debug``, ``policy.tcb``, ``policy.measurement``, ``policy.freshness``,
``binding.report_data``, ``binding.freshness``. :func:`accept` runs them all on the
fields a platform's signatures verified, and makes the :class:`VerifiedNode`.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from privproc.attestation.evidence import Evidence, Platform, binding
from privproc.attestation.tcb import Tcb
from privproc.errors import AttestationError, MisuseError

__all__ = [
    "Policy",
    "VerifiedNode",
    "accept",
    "check_binding",
    "check_debug",
    "check_freshness",
    "check_measurement",
    "check_tcb",
]


@dataclass(frozen=True, slots=True)
class Policy:
    """What a verifier requires of evidence.

    ``measurements``: the allowed launch measurements (from the ledger); empty
    refuses everything. ``min_tcb``: the lowest acceptable TCB, or ``None`` for
    no minimum. ``max_age``: the oldest acceptable evidence; ``max_skew``: how far
    in the future a timestamp may be (clock skew). ``allow_debug``: accept guests
    whose policy lets the host debug them (never in production).
    ``simulated_roots``: DER certificates of simulated vendor roots to trust;
    empty (the default) refuses all simulated evidence. ``tdx_tcb_status``: the
    Intel TCB statuses accepted for TDX (whose TCB is judged by Intel's signed
    TCB info, not by ``min_tcb``, which applies to SEV-SNP-shaped TCBs).
    ``sevsnp_test_chains``: the **test trust store** for SEV-SNP: PEM ASK+ARK pairs of
    emulated AMD hierarchies (:mod:`privproc.attestation.emulated`) trusted besides
    AMD's pinned roots; empty (the default, and every production config) trusts AMD
    only. A device that sets it says so in its trail (``trust.test_store``).
    ``tdx_test_roots``: the test trust store for TDX: DER root certificates of
    emulated Intel PKIs (:mod:`privproc.attestation.emulated.tdx`); a quote whose PCK
    chain ends in one is verified by dcap-qvl pinned to it, every other quote against
    Intel's SGX Root CA built into dcap-qvl; empty (the default) trusts Intel only.
    """

    measurements: frozenset[bytes]
    min_tcb: Tcb | None = None
    max_age: timedelta = timedelta(hours=24)
    max_skew: timedelta = timedelta(minutes=5)
    allow_debug: bool = False
    simulated_roots: tuple[bytes, ...] = field(default=())
    tdx_tcb_status: frozenset[str] = frozenset({"UpToDate"})
    sevsnp_test_chains: tuple[bytes, ...] = field(default=())
    tdx_test_roots: tuple[bytes, ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.measurements, frozenset) or not all(
            isinstance(m, bytes) for m in self.measurements
        ):
            raise MisuseError("measurements must be a frozenset of bytes")
        if self.min_tcb is not None and not isinstance(self.min_tcb, Tcb):
            raise MisuseError("min_tcb must be a Tcb or None")
        if self.max_age <= timedelta(0) or self.max_skew < timedelta(0):
            raise MisuseError("max_age must be positive and max_skew non-negative")
        if not isinstance(self.allow_debug, bool):
            raise MisuseError("allow_debug must be a bool")
        if not isinstance(self.simulated_roots, tuple) or not all(
            isinstance(r, bytes) for r in self.simulated_roots
        ):
            raise MisuseError("simulated_roots must be a tuple of DER bytes")
        if not isinstance(self.tdx_tcb_status, frozenset) or not all(
            isinstance(s, str) for s in self.tdx_tcb_status
        ):
            raise MisuseError("tdx_tcb_status must be a frozenset of status names")
        if not isinstance(self.sevsnp_test_chains, tuple) or not all(
            isinstance(c, bytes) for c in self.sevsnp_test_chains
        ):
            raise MisuseError("sevsnp_test_chains must be a tuple of PEM bytes")
        if not isinstance(self.tdx_test_roots, tuple) or not all(
            isinstance(r, bytes) for r in self.tdx_test_roots
        ):
            raise MisuseError("tdx_test_roots must be a tuple of DER bytes")


@dataclass(frozen=True, slots=True)
class VerifiedNode:
    """What verification established about a node; only a verifier makes one.

    ``node_key`` is the HPKE public key the hardware bound into its report: the
    one key the device may seal to. ``tcb`` is the TCB from the endorsement
    certificate (``None`` for TDX, whose TCB Intel's collateral judged).
    ``chip_id`` identifies the machine (SEV-SNP CHIP_ID; TDX PPID, may be empty).
    ``timestamp`` is covered by the report signature (through the
    freshness value), so ``timestamp + policy.max_age`` is when to re-verify.
    ``checks`` names every check that ran and passed, in order (the device's trail
    shows them); a check skipped for lack of input (``policy.tcb`` without a
    minimum) is not named.
    """

    platform: Platform
    node_key: bytes
    measurement: bytes
    tcb: Tcb | None
    chip_id: bytes
    debug: bool
    freshness: bytes
    timestamp: datetime
    report_data: bytes
    checks: tuple[str, ...] = ()


def check_debug(debug: bool, policy: Policy) -> None:
    """``policy.debug``: a debuggable guest is refused unless the policy allows it."""
    if debug and not policy.allow_debug:
        raise AttestationError(
            "policy.debug", "guest policy allows debugging", expected="debug off", found="on"
        )


def check_tcb(tcb: Tcb, policy: Policy) -> None:
    """``policy.tcb``: every component of the endorsed TCB is at least the minimum."""
    if policy.min_tcb is None:
        return
    low = tcb.meets(policy.min_tcb)
    if low is not None:
        raise AttestationError(
            "policy.tcb", f"TCB {low} below minimum", expected=f">= {policy.min_tcb}", found=tcb
        )


def check_measurement(measurement: bytes, policy: Policy) -> None:
    """``policy.measurement``: the launch measurement is on the allow-list."""
    if measurement not in policy.measurements:
        raise AttestationError(
            "policy.measurement",
            "measurement not in the allowed set",
            expected=f"one of {len(policy.measurements)} allowed",
            found=measurement.hex(),
        )


def check_freshness(timestamp: datetime, policy: Policy, now: datetime) -> None:
    """``policy.freshness``: ``now - max_age <= timestamp <= now + max_skew``."""
    if now.tzinfo is None:
        raise MisuseError("now must be timezone-aware")
    if timestamp > now + policy.max_skew:
        raise AttestationError(
            "policy.freshness", "evidence from the future", expected=f"<= {now}", found=timestamp
        )
    if now - timestamp > policy.max_age:
        raise AttestationError(
            "policy.freshness",
            "evidence too old",
            expected=f"age <= {policy.max_age}",
            found=f"age {now - timestamp}",
        )


def check_binding(
    report_data: bytes,
    node_key: bytes,
    freshness: bytes,
    timestamp: datetime,
    *,
    nonce: bytes | None = None,
) -> None:
    """``binding.freshness`` and ``binding.report_data``.

    The freshness value must start with ``timestamp`` (and end with ``nonce``
    when the verifier asked for one), and the report's user data must equal
    :func:`~privproc.attestation.evidence.binding` of the node key and freshness.
    """
    carried = int.from_bytes(freshness[:8], "big")
    if len(freshness) < 8 or carried != int(timestamp.timestamp()):
        raise AttestationError(
            "binding.freshness",
            "freshness value does not carry the evidence timestamp",
            expected=int(timestamp.timestamp()),
            found=carried,
        )
    if nonce is not None and not hmac.compare_digest(freshness[8:], nonce):
        raise AttestationError(
            "binding.freshness",
            "freshness value does not carry the requested nonce",
            expected=nonce.hex(),
            found=freshness[8:].hex(),
        )
    expected = binding(node_key, freshness)
    if not hmac.compare_digest(report_data, expected):
        raise AttestationError(
            "binding.report_data",
            "report data does not bind the node key and freshness",
            expected=expected.hex(),
            found=report_data.hex(),
        )


def accept(
    evidence: Evidence,
    *,
    report_data: bytes,
    measurement: bytes,
    debug: bool,
    tcb: Tcb | None,
    chip_id: bytes,
    policy: Policy,
    now: datetime,
    nonce: bytes | None = None,
    checks: tuple[str, ...] = (),
) -> VerifiedNode:
    """The checks every platform ends with, then the :class:`VerifiedNode`.

    Call it only with fields the platform's signatures verified (and ``tcb`` from the
    endorsement, never the report's self-description). In order: ``binding.freshness``,
    ``binding.report_data`` (:func:`check_binding`), ``policy.debug``, ``policy.tcb``
    (skipped when ``tcb`` is ``None``: TDX, whose TCB Intel's collateral judged),
    ``policy.measurement``, ``policy.freshness``. ``checks``: what the platform
    verified before (its signature checks); the result names those and these.
    """
    check_binding(
        report_data, evidence.node_key, evidence.freshness, evidence.timestamp, nonce=nonce
    )
    ran = [*checks, "binding.freshness", "binding.report_data"]
    check_debug(debug, policy)
    ran.append("policy.debug")
    if tcb is not None and policy.min_tcb is not None:
        check_tcb(tcb, policy)
        ran.append("policy.tcb")
    check_measurement(measurement, policy)
    check_freshness(evidence.timestamp, policy, now)
    ran += ["policy.measurement", "policy.freshness"]
    return VerifiedNode(
        platform=evidence.platform,
        node_key=evidence.node_key,
        measurement=measurement,
        tcb=tcb,
        chip_id=chip_id,
        debug=debug,
        freshness=evidence.freshness,
        timestamp=evidence.timestamp,
        report_data=report_data,
        checks=tuple(ran),
    )
