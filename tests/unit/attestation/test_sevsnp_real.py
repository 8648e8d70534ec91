"""The SEV-SNP verifier on real evidence from a Milan processor (vectors SOURCES.md)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.attestation import Evidence, Platform, Policy, Tcb, freshness_value, verify
from privproc.attestation.sevsnp.certs import Chain, Product, packaged_chain
from privproc.attestation.sevsnp.report import SIGNATURE_OFFSET, parse_report
from privproc.attestation.sevsnp.verify import verify_report
from privproc.errors import AttestationError, MisuseError
from tests._vectors import vector_path

NOW = datetime(2023, 1, 1, tzinfo=UTC)
REPORT = vector_path("attestation", "sev-snp", "attestation.bin").read_bytes()
VCEK = vector_path("attestation", "sev-snp", "vcek.der").read_bytes()
MEASUREMENT = bytes.fromhex(
    "b07af9620f3b839b47996422ddec6058338951d984e312115131ea82705eaf5b6bdf8a9ece31a5a608eb0cf2e4872b01"
)
CHIP_ID = bytes.fromhex(
    "3ac3fe21e13fb0990eb28a802e3fb6a29483a6b0753590c951bdd3b8e53786184ca39e359669a2b76a1936776b564ea464cdce40c05f63c9b610c5068b006b5d"
)
TCB = Tcb(bootloader=2, tee=0, snp=5, microcode=68)
MATCHING = Policy(measurements=frozenset({MEASUREMENT}), min_tcb=TCB, allow_debug=True)


def _chain(name: str) -> Chain:
    return Chain.from_pem(vector_path("attestation", "sev-snp", name).read_bytes())


def _refused(
    check: str,
    report: bytes = REPORT,
    chain: Chain | None = None,
    policy: Policy = MATCHING,
    **kw: object,
) -> AttestationError:
    with pytest.raises(AttestationError) as info:
        verify_report(report, VCEK, chain, policy=policy, now=kw.pop("now", NOW), **kw)  # type: ignore[arg-type]
    assert info.value.check == check, str(info.value)
    return info.value


def test_packaged_roots_are_the_published_ones() -> None:
    for product, name in (
        (Product.MILAN, "ask_ark_milan.pem"),
        (Product.GENOA, "ask_ark_genoa.pem"),
        (Product.TURIN, "ask_ark_turin_vcek.pem"),
    ):
        assert packaged_chain(product) == _chain(name)


@pytest.mark.parametrize("chain", [None, "ask_ark_milan.pem"])
def test_accepts_real_report_under_matching_policy(chain: str | None) -> None:
    verified = verify_report(
        REPORT,
        VCEK,
        _chain(chain) if chain else None,
        policy=MATCHING,
        now=NOW,
        report_data=bytes.fromhex("0102030405") + bytes(59),
        produced_at=NOW - timedelta(minutes=1),
    )
    assert verified.product is Product.MILAN
    assert verified.tcb == TCB
    assert verified.chip_id == CHIP_ID
    assert verified.measurement == MEASUREMENT
    assert verified.report.debug
    assert verified.report.version == 2


def test_parsed_fields() -> None:
    r = parse_report(REPORT)
    assert (r.version, r.policy, r.vmpl, r.signature_algo) == (2, 0xB0000, 0, 1)
    assert r.reported_tcb == r.current_tcb == r.committed_tcb == r.launch_tcb == 0x4405000000000002
    assert (r.current_major, r.current_minor, r.current_build) == (1, 0x31, 3)
    assert r.signing_key == 0
    assert not r.mask_chip_key
    assert r.cpuid_fam_id is None


def test_refuses_debug_by_default() -> None:
    _refused("policy.debug", policy=dataclasses.replace(MATCHING, allow_debug=False))


@pytest.mark.parametrize("component", ["bootloader", "tee", "snp", "microcode"])
def test_refuses_tcb_below_minimum(component: str) -> None:
    higher = dataclasses.replace(TCB, **{component: getattr(TCB, component) + 1})
    _refused("policy.tcb", policy=dataclasses.replace(MATCHING, min_tcb=higher))


def test_refuses_measurement_not_allowed() -> None:
    _refused(
        "policy.measurement",
        policy=dataclasses.replace(MATCHING, measurements=frozenset({bytes(48)})),
    )


def test_refuses_old_evidence() -> None:
    _refused("policy.freshness", produced_at=NOW - timedelta(days=2))


def test_refuses_unexpected_report_data() -> None:
    _refused("binding.report_data", report_data=bytes(64))


@pytest.mark.parametrize("name", ["ask_ark_genoa.pem", "ask_ark_turin_vcek.pem"])
def test_refuses_wrong_products_chain(name: str) -> None:
    _refused("sevsnp.vcek.chain", chain=_chain(name))


def test_refuses_mixed_chain() -> None:
    milan, genoa = _chain("ask_ark_milan.pem"), _chain("ask_ark_genoa.pem")
    _refused("sevsnp.ask.signature", chain=Chain(ask=milan.ask, ark=genoa.ark))


@pytest.mark.parametrize(
    "when", [datetime(2022, 9, 1, tzinfo=UTC), datetime(2030, 1, 1, tzinfo=UTC)]
)
def test_refuses_outside_vcek_validity(when: datetime) -> None:
    _refused("sevsnp.vcek.validity", now=when)


def test_refuses_unpinned_ark() -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa

    milan = _chain("ask_ark_milan.pem")
    key = rsa.generate_private_key(65537, 2048)
    fake_ark = (
        x509.CertificateBuilder()
        .subject_name(milan.ark.subject)
        .issuer_name(milan.ark.subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(milan.ark.not_valid_before_utc)
        .not_valid_after(milan.ark.not_valid_after_utc)
        .sign(key, hashes.SHA384())
    )
    _refused("sevsnp.ark.pin", chain=Chain(ask=milan.ask, ark=fake_ark))


def test_whole_evidence_is_refused_because_it_binds_no_privproc_key() -> None:
    ts = NOW.replace(microsecond=0)
    ev = Evidence(Platform.SEV_SNP, REPORT, (VCEK,), b"\x04" * 65, freshness_value(ts), ts)
    with pytest.raises(AttestationError) as info:
        verify(Evidence.decode(ev.encode()), policy=MATCHING, now=NOW)
    assert info.value.check == "binding.report_data"


# Any change to the signed region (0x000..0x29F) is refused. Bytes inside reserved or
# structured fields may fail parsing first; all others fail the signature.
_OFFSETS = [
    0x00,
    0x04,
    0x08,
    0x10,
    0x30,
    0x38,
    0x40,
    0x48,
    0x50,
    0x8F,
    0x90,
    0xBF,
    0xC0,
    0xE0,
    0x110,
    0x140,
    0x160,
    0x180,
    0x187,
    0x188,
    0x1A0,
    0x1DF,
    0x1E0,
    0x1E8,
    0x1F0,
    0x1F8,
    0x29F,
]


def _flip(offset: int, mask: int) -> bytes:
    raw = bytearray(REPORT)
    raw[offset] ^= mask
    return bytes(raw)


@pytest.mark.parametrize("offset", _OFFSETS)
def test_refuses_any_changed_signed_byte(offset: int) -> None:
    with pytest.raises(AttestationError) as info:
        verify_report(_flip(offset, 0x01), VCEK, None, policy=MATCHING, now=NOW)
    assert info.value.check.startswith("sevsnp.report."), str(info.value)


@given(offset=st.integers(0, SIGNATURE_OFFSET - 1), mask=st.integers(1, 255))
def test_refuses_any_changed_signed_byte_hypothesis(offset: int, mask: int) -> None:
    with pytest.raises(AttestationError) as info:
        verify_report(_flip(offset, mask), VCEK, None, policy=MATCHING, now=NOW)
    assert info.value.check.startswith("sevsnp.report."), str(info.value)


@given(offset=st.integers(SIGNATURE_OFFSET, SIGNATURE_OFFSET + 143), mask=st.integers(1, 255))
def test_refuses_changed_signature(offset: int, mask: int) -> None:
    with pytest.raises(AttestationError) as info:
        verify_report(_flip(offset, mask), VCEK, None, policy=MATCHING, now=NOW)
    assert info.value.check == "sevsnp.report.signature"


def test_chain_holds_certificates() -> None:
    from privproc.attestation.sevsnp.certs import Chain, Product, packaged_chain

    good = packaged_chain(Product.MILAN)
    assert Chain(ask=good.ask, ark=good.ark) == good
    with pytest.raises(MisuseError):
        Chain(ask=b"der", ark=good.ark)  # type: ignore[arg-type]
