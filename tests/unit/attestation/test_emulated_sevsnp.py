"""The emulated SEV-SNP platform: exact 56860 reports, AMD-shaped chain, real verifier."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509

from privproc.attestation import Policy, Tcb, freshness_value, verify
from privproc.attestation.emulated import EMULATED_ORG, EmulatedAmd
from privproc.attestation.sevsnp import certs
from privproc.attestation.sevsnp.report import REPORT_SIZE, parse_report
from privproc.attestation.sevsnp.verify import verify_report
from privproc.enclave.platform import load_emulated_amd, write_emulated_amd
from privproc.errors import AttestationError, ConfigError
from tests._world import emulated_amd

NOW = datetime(2026, 6, 1, tzinfo=UTC)
TCB = Tcb(bootloader=4, tee=0, snp=22, microcode=213)
MEASUREMENT = bytes(range(48))


@pytest.fixture(scope="module")
def amd() -> EmulatedAmd:
    return emulated_amd()


def test_report_is_the_exact_snp_format(amd: EmulatedAmd) -> None:
    chip = amd.chip(chip_id=b"\x07" * 64, tcb=TCB, not_before=NOW - timedelta(days=1))
    raw = chip.report(report_data=b"\x01" * 64, measurement=MEASUREMENT)
    assert len(raw) == REPORT_SIZE
    report = parse_report(raw)
    assert report.version == 3
    assert (report.cpuid_fam_id, report.cpuid_mod_id) == (0x19, 0x01)
    assert Tcb.from_u64(report.reported_tcb) == TCB
    assert report.measurement == MEASUREMENT
    assert not report.debug
    # the same verifier as the real Milan sample, chain given, test root pinned for it
    policy = Policy(measurements=frozenset({MEASUREMENT}), min_tcb=TCB)
    verified = verify_report(
        raw, chip.vcek_der(), amd.chain, policy=policy, now=NOW, test_chains=(amd.chain,)
    )
    assert verified.product is certs.Product.MILAN
    assert verified.tcb == TCB


def test_vcek_carries_amds_tcb_extensions(amd: EmulatedAmd) -> None:
    chip = amd.chip(chip_id=b"\x09" * 64, tcb=TCB, not_before=NOW)
    assert certs.vcek_tcb(chip.vcek, certs.Product.MILAN) == TCB
    assert certs.vcek_chip_id(chip.vcek) == b"\x09" * 64
    org = chip.vcek.issuer.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
    assert org[0].value == EMULATED_ORG


def test_ark_in_the_evidence_is_not_a_pin(amd: EmulatedAmd) -> None:
    chip = amd.chip(chip_id=b"\x02" * 64, tcb=TCB, not_before=NOW - timedelta(days=1))
    policy = Policy(measurements=frozenset({MEASUREMENT}))
    with pytest.raises(AttestationError) as info:
        verify_report(
            chip.report(report_data=b"\x00" * 64, measurement=MEASUREMENT),
            chip.vcek_der(),
            amd.chain,
            policy=policy,
            now=NOW,
        )
    assert info.value.check == "sevsnp.ark.pin"


def test_evidence_verifies_only_with_the_test_store(amd: EmulatedAmd) -> None:
    chip = amd.chip(chip_id=b"\x03" * 64, tcb=TCB, not_before=NOW - timedelta(days=1))
    evidence = chip.evidence(
        node_key=b"k" * 32, measurement=MEASUREMENT, freshness=freshness_value(NOW), timestamp=NOW
    )
    policy = Policy(measurements=frozenset({MEASUREMENT}), min_tcb=TCB)
    with pytest.raises(AttestationError) as info:
        verify(evidence, policy=policy, now=NOW)
    assert info.value.check == "sevsnp.vcek.chain"
    trusted = dataclasses.replace(policy, sevsnp_test_chains=(amd.chain_pem(),))
    assert verify(evidence, policy=trusted, now=NOW).node_key == b"k" * 32
    other = EmulatedAmd.generate(not_before=NOW - timedelta(days=1))
    wrong = dataclasses.replace(policy, sevsnp_test_chains=(other.chain_pem(),))
    with pytest.raises(AttestationError) as info:
        verify(evidence, policy=wrong, now=NOW)
    assert info.value.check == "sevsnp.vcek.chain"


def test_keys_round_trip_through_the_platform_folder(tmp_path: object, amd: EmulatedAmd) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path)) / "amd"
    folder.mkdir()
    (folder / "amd.key").write_bytes(amd.private_pem())
    (folder / "ask_ark.pem").write_bytes(amd.chain_pem())
    again = write_emulated_amd(folder)  # exists: loaded, not regenerated
    assert again.chain_pem() == amd.chain_pem()
    (folder / "ask_ark.pem").write_bytes(b"junk")
    with pytest.raises(ConfigError):
        load_emulated_amd(folder)
