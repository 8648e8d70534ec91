"""The emulated TDX platform: DCAP v4 quotes and collateral that dcap-qvl itself verifies.

dcap-qvl (PyPI, Phala Network) is the independent check: it parses the quote and the
PCK certificate's SGX extension, and verifies the whole chain (TCB info and QE identity
signatures, CRLs, PCK chain, QE report, attestation key, quote signature, TCB level)
pinned to the generated root, exactly as it verifies the real Intel sample in
``test_tdx.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dcap_qvl
import pytest
from cryptography import x509

from privproc.attestation import Evidence, Platform, Policy, freshness_value, verify
from privproc.attestation.emulated.tdx import (
    EMULATED_INTEL_ORG,
    OUT_OF_DATE,
    EmulatedIntel,
    EmulatedTd,
    emulated_td_measurement,
    td_registers,
)
from privproc.attestation.evidence import binding
from privproc.attestation.tdx.quote import td_measurement_of_quote
from privproc.attestation.tdx.verify import verify_quote
from privproc.enclave.platform import (
    EmulatedTdxHardware,
    load_emulated_intel,
    write_emulated_intel,
)
from privproc.errors import AttestationError, ConfigError

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
IMAGE = bytes(range(48))
PPID = bytes(range(16))
KEY = b"\x42" * 32
_HEADER, _BODY = 48, 584


@pytest.fixture(scope="module")
def intel() -> EmulatedIntel:
    return EmulatedIntel.generate(not_before=EPOCH)


@pytest.fixture(scope="module")
def td(intel: EmulatedIntel) -> EmulatedTd:
    return intel.platform(ppid=PPID, not_before=EPOCH)


@pytest.fixture(scope="module")
def collateral(intel: EmulatedIntel) -> bytes:
    return intel.collateral(now=NOW - timedelta(hours=1))


@pytest.fixture(scope="module")
def quote(td: EmulatedTd) -> bytes:
    return td.quote(report_data=b"\x01" * 64, registers=td_registers(IMAGE))


def _verify(quote: bytes, collateral: bytes, root: bytes) -> str:
    col = dcap_qvl.QuoteCollateralV3.from_json(collateral.decode())
    return str(dcap_qvl.verify_with_root_ca(quote, col, root, int(NOW.timestamp())).status)


def test_quote_parses_as_a_v4_td_quote(td: EmulatedTd, quote: bytes) -> None:
    parsed = dcap_qvl.parse_quote(quote)
    assert parsed.is_tdx()
    assert parsed.header.version == 4
    assert parsed.header.tee_type == 0x81
    assert td_measurement_of_quote(quote) == emulated_td_measurement(IMAGE)
    ext = dcap_qvl.parse_pck_extension_from_pem(td.pck_chain_pem)
    assert bytes(ext.ppid) == PPID
    assert bytes(ext.fmspc) == bytes.fromhex("B0C06F000000")
    assert ext.pce_svn == 11
    assert bytes(ext.cpu_svn) == td.tcb.cpu_svn
    for cert in x509.load_pem_x509_certificates(td.pck_chain_pem):
        org = cert.issuer.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
        assert [a.value for a in org] == [EMULATED_INTEL_ORG]  # never Intel's name


def test_dcap_qvl_accepts_it_pinned_to_the_generated_root(
    intel: EmulatedIntel, quote: bytes, collateral: bytes
) -> None:
    verified = verify_quote(quote, collateral, now=NOW, test_roots=(intel.root_der(),))
    assert verified.status == "UpToDate"
    assert verified.report_data == b"\x01" * 64
    assert verified.measurement == emulated_td_measurement(IMAGE)
    assert verified.mr_td == IMAGE
    assert verified.ppid == PPID
    assert not verified.debug


def test_refused_with_intels_root_or_another_test_root(quote: bytes, collateral: bytes) -> None:
    other = EmulatedIntel.generate(not_before=EPOCH)
    for roots in ((), (other.root_der(),)):
        with pytest.raises(AttestationError) as info:
            verify_quote(quote, collateral, now=NOW, test_roots=roots)
        assert info.value.check == "tdx.quote.chain"


def _signed_offsets(td: EmulatedTd, quote: bytes) -> list[int]:
    """Every byte up to the PEM chain, except the outer certification data type
    (the two bytes after the attestation key: dcap-qvl reads the nested data whatever
    that type says, and no signature covers it), then the base64 of the PCK leaf and
    PCK CA certificates (the root's copy is unused: the verifier holds the root)."""
    pem_at = quote.index(td.pck_chain_pem)
    outer_type = _HEADER + _BODY + 4 + 64 + 64
    offsets = [i for i in range(pem_at) if i not in (outer_type, outer_type + 1)]
    root_at = td.pck_chain_pem.rindex(b"-----BEGIN CERTIFICATE-----")
    lines, at = td.pck_chain_pem[:root_at].split(b"\n"), pem_at
    for line in lines:
        if not line.startswith(b"-----"):
            offsets.extend(range(at, at + len(line)))
        at += len(line) + 1
    return offsets


def test_every_flipped_signed_byte_is_refused(
    intel: EmulatedIntel, td: EmulatedTd, quote: bytes, collateral: bytes
) -> None:
    root = intel.root_der()
    offsets = _signed_offsets(td, quote)
    assert len(offsets) > 3000
    accepted = []
    for i in offsets:
        flipped = bytearray(quote)
        flipped[i] ^= 0x01
        try:
            _verify(bytes(flipped), collateral, root)
        except ValueError:
            continue
        accepted.append(i)
    assert accepted == []


def test_flipped_signed_bytes_name_their_check(
    intel: EmulatedIntel, quote: bytes, collateral: bytes
) -> None:
    roots = (intel.root_der(),)
    expected = {
        60: "tdx.quote.signature",  # TD report body: the attestation key's signature
        _HEADER + _BODY + 4 + 10: "tdx.quote.signature",  # the signature itself
        _HEADER + _BODY + 4 + 64 + 10: "tdx.quote.signature",  # the attestation key
        _HEADER + _BODY + 4 + 128 + 6 + 70: "tdx.quote.signature",  # QE report (MRENCLAVE)
    }
    for offset, check in expected.items():
        flipped = bytearray(quote)
        flipped[offset] ^= 0x01
        with pytest.raises(AttestationError) as info:
            verify_quote(bytes(flipped), collateral, now=NOW, test_roots=roots)
        assert info.value.check == check, offset


def test_collateral_is_signed_and_dated(
    intel: EmulatedIntel, quote: bytes, collateral: bytes
) -> None:
    roots = (intel.root_der(),)
    doc = json.loads(collateral)
    doc["tcb_info"] = doc["tcb_info"].replace(
        '"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18'
    )
    with pytest.raises(AttestationError) as info:
        verify_quote(quote, json.dumps(doc).encode(), now=NOW, test_roots=roots)
    assert info.value.check == "tdx.quote.signature"
    with pytest.raises(AttestationError) as info:
        verify_quote(quote, collateral, now=NOW + timedelta(days=31), test_roots=roots)
    assert info.value.check == "tdx.collateral.validity"


def test_out_of_date_platform_and_debug_td(intel: EmulatedIntel, collateral: bytes) -> None:
    roots = (intel.root_der(),)
    low = intel.platform(ppid=PPID, not_before=EPOCH, tcb=OUT_OF_DATE)
    raw = low.quote(report_data=bytes(64), registers=td_registers(IMAGE))
    assert verify_quote(raw, collateral, now=NOW, test_roots=roots).status == "OutOfDate"
    debug = intel.platform(ppid=PPID, not_before=EPOCH)
    raw = debug.quote(report_data=bytes(64), registers=td_registers(IMAGE), debug=True)
    with pytest.raises(AttestationError) as info:
        verify_quote(raw, collateral, now=NOW, test_roots=roots)
    assert info.value.check == "policy.debug"


def _evidence(td: EmulatedTd, collateral: bytes, **kw: object) -> Evidence:
    freshness = freshness_value(NOW, b"nonce-nonce-nonce")
    ev = td.evidence(
        node_key=KEY,
        image=IMAGE,
        freshness=freshness,
        timestamp=NOW,
        collateral=collateral,
        **kw,  # type: ignore[arg-type]
    )
    return Evidence.decode(ev.encode())


def test_evidence_through_the_device_verifier(
    intel: EmulatedIntel, td: EmulatedTd, collateral: bytes
) -> None:
    evidence = _evidence(td, collateral)
    assert evidence.platform is Platform.TDX
    released = emulated_td_measurement(IMAGE)
    policy = Policy(measurements=frozenset({released}), tdx_test_roots=(intel.root_der(),))
    node = verify(evidence, policy=policy, now=NOW, nonce=b"nonce-nonce-nonce")
    assert node.node_key == KEY
    assert node.report_data == binding(KEY, evidence.freshness)
    assert node.tcb is None
    assert {"tdx.quote.chain", "tdx.quote.signature", "policy.tcb"} <= set(node.checks)
    for changed, check in (
        (
            Policy(measurements=frozenset({bytes(48)}), tdx_test_roots=policy.tdx_test_roots),
            "policy.measurement",
        ),
        (Policy(measurements=policy.measurements), "tdx.quote.chain"),
        (
            Policy(
                measurements=policy.measurements,
                tdx_test_roots=policy.tdx_test_roots,
                tdx_tcb_status=frozenset({"Nope"}),
            ),
            "policy.tcb",
        ),
    ):
        with pytest.raises(AttestationError) as info:
            verify(evidence, policy=changed, now=NOW)
        assert info.value.check == check


def test_keys_round_trip_through_the_platform_folder(tmp_path: Path) -> None:
    made = write_emulated_intel(tmp_path / "tdx-emulated")
    loaded = load_emulated_intel(tmp_path / "tdx-emulated")
    assert loaded.root_der() == made.root_der()
    assert write_emulated_intel(tmp_path / "tdx-emulated").root_der() == made.root_der()
    hw = EmulatedTdxHardware.for_node(loaded, "n1", IMAGE, now=NOW)
    assert hw.measurement == emulated_td_measurement(IMAGE)
    ev = hw.evidence(KEY, NOW)
    policy = Policy(measurements=frozenset({hw.measurement}), tdx_test_roots=(made.root_der(),))
    assert verify(ev, policy=policy, now=NOW + timedelta(minutes=1)).chip_id[:16] != bytes(16)
    keys, certs = made.files()
    with pytest.raises(ConfigError):
        EmulatedIntel.from_files(keys, certs.replace(b"MII", b"XII", 1))
    other_keys, _ = EmulatedIntel.generate(not_before=EPOCH).files()
    with pytest.raises(ConfigError):
        EmulatedIntel.from_files(other_keys, certs)
    with pytest.raises(ConfigError):
        EmulatedTdxHardware.for_node(loaded, "n1", IMAGE, now=NOW, tcb="bl=1")
