"""NVIDIA H100 SPDM evidence: signature, chain to the pinned root, nonce (real sample)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import given
from hypothesis import strategies as st

from privproc.attestation.nvgpu import parse_transcript, verify_gpu_report
from privproc.attestation.nvgpu.spdm import SIGNATURE_SIZE
from privproc.attestation.nvgpu.verify import packaged_root
from privproc.errors import AttestationError, DecodeError
from tests._vectors import vector_path

D = vector_path("attestation", "nvidia-h100")
REPORT = bytes.fromhex((D / "hopperAttestationReport.txt").read_text().strip())
CHAIN = (D / "hopperCertChain.txt").read_bytes()
NONCE = REPORT[4:36]
NOW = datetime(2025, 1, 1, tzinfo=UTC)


def _pem(certs: list[x509.Certificate]) -> bytes:
    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)


def _refused(
    check: str,
    report: bytes = REPORT,
    chain: bytes = CHAIN,
    nonce: bytes | None = NONCE,
    now: datetime = NOW,
) -> None:
    with pytest.raises(AttestationError) as info:
        verify_gpu_report(report, chain, nonce=nonce, now=now)
    assert info.value.check == check, str(info.value)


def test_verifies_real_h100_report() -> None:
    v = verify_gpu_report(REPORT, CHAIN, nonce=NONCE, now=NOW)
    assert len(v.measurements) == 64
    assert all(len(m) == 48 for m in v.measurements.values())
    assert "GH100" in v.device
    assert v.measurements[2].hex().startswith("8048dfd18fe229bf")
    with pytest.raises(TypeError):  # a verified value is read-only
        v.measurements[2] = bytes(48)  # type: ignore[index]
    assert len(v.opaque_data) == 422


def test_chain_ends_in_packaged_root() -> None:
    assert x509.load_pem_x509_certificates(CHAIN)[-1] == packaged_root()


def test_refuses_other_nonce() -> None:
    _refused("nvgpu.report.nonce", nonce=bytes(32))


def test_refuses_chain_without_pinned_root() -> None:
    certs = x509.load_pem_x509_certificates(CHAIN)
    _refused("nvgpu.root.pin", chain=_pem(certs[:-1]))
    _refused("nvgpu.chain.format", chain=b"")


def test_refuses_chain_out_of_order() -> None:
    certs = x509.load_pem_x509_certificates(CHAIN)
    _refused("nvgpu.chain", chain=_pem([certs[1], certs[0], *certs[2:]]))


def test_refuses_before_chain_validity() -> None:
    _refused("nvgpu.chain.validity", now=datetime(2021, 1, 1, tzinfo=UTC))


def test_refuses_a_ca_as_the_signing_leaf() -> None:
    # A valid chain cut so that its "leaf" is the GSP BROM CA, which may only sign certificates.
    certs = x509.load_pem_x509_certificates(CHAIN)
    _refused("nvgpu.chain", chain=_pem(certs[1:]))


@given(offset=st.integers(0, len(REPORT) - SIGNATURE_SIZE - 1), mask=st.integers(1, 255))
def test_refuses_any_changed_signed_byte(offset: int, mask: int) -> None:
    raw = bytearray(REPORT)
    raw[offset] ^= mask
    with pytest.raises(AttestationError) as info:
        verify_gpu_report(bytes(raw), CHAIN, nonce=None, now=NOW)
    assert info.value.check in {"nvgpu.report.format", "nvgpu.report.signature"}


@given(offset=st.integers(len(REPORT) - SIGNATURE_SIZE, len(REPORT) - 1), mask=st.integers(1, 255))
def test_refuses_changed_signature(offset: int, mask: int) -> None:
    raw = bytearray(REPORT)
    raw[offset] ^= mask
    with pytest.raises(AttestationError) as info:
        verify_gpu_report(bytes(raw), CHAIN, nonce=None, now=NOW)
    assert info.value.check == "nvgpu.report.signature"


@given(st.binary(max_size=600))
def test_parser_random_bytes(data: bytes) -> None:
    _parses_consistently_or_refuses(data)


def _parses_consistently_or_refuses(data: bytes) -> None:
    """DecodeError, or a transcript whose signature is the last 96 bytes and covers the rest."""
    try:
        t = parse_transcript(data)
    except DecodeError:
        return
    assert t.signed == data[:-SIGNATURE_SIZE]
    assert data[-SIGNATURE_SIZE:] == t.signature_r.to_bytes(48, "big") + t.signature_s.to_bytes(
        48, "big"
    )
    assert data[4:36] == t.request_nonce


@given(
    st.lists(
        st.tuples(st.integers(0, len(REPORT) - 1), st.integers(0, 255)), min_size=1, max_size=4
    ),
    st.integers(0, len(REPORT)),
)
def test_parser_mutated(changes: list[tuple[int, int]], cut: int) -> None:
    raw = bytearray(REPORT[:cut])
    for offset, value in changes:
        if offset < len(raw):
            raw[offset] = value
    _parses_consistently_or_refuses(bytes(raw))


# --- issue 13: reference values recorded at release time, test roots, the emulated GPU --


def test_real_report_meets_rim_digests_recorded_from_it_and_refuses_a_changed_one() -> None:
    from privproc.attestation.nvgpu.verify import check_rims

    verified = verify_gpu_report(REPORT, CHAIN, nonce=NONCE, now=NOW)
    recorded = tuple(sorted(verified.measurements.items()))
    check_rims(verified, recorded)
    index, value = recorded[0]
    changed = ((index, bytes(b ^ 1 for b in value)), *recorded[1:])
    with pytest.raises(AttestationError) as info:
        check_rims(verified, changed)
    assert info.value.check == "nvgpu.measurement"
    with pytest.raises(AttestationError) as info:
        check_rims(verified, ((250, bytes(48)),))  # an index the report lacks
    assert info.value.check == "nvgpu.measurement"


def test_emulated_gpu_verifies_only_with_its_root_in_the_test_store() -> None:
    from privproc.attestation.emulated import EmulatedGpu, golden_measurements

    gpu = EmulatedGpu.generate(not_before=NOW)
    nonce = bytes(range(32))
    report = gpu.report(nonce)
    _refused("nvgpu.root.pin", report=report, chain=gpu.chain_pem(), nonce=nonce)
    verified = verify_gpu_report(
        report, gpu.chain_pem(), nonce=nonce, now=NOW, test_roots=(gpu.root_der(),)
    )
    assert dict(verified.measurements) == golden_measurements()
    assert golden_measurements(devtools=True) != golden_measurements()
    # the real sample's pinned root is unaffected by a test root
    assert verify_gpu_report(REPORT, CHAIN, nonce=NONCE, now=NOW, test_roots=(gpu.root_der(),))
