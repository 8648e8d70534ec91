"""configfs-tsm evidence generation, against recorded trees in tmp_path."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.attestation import Policy, Tcb, binding, freshness_value, verify
from privproc.attestation.sevsnp.certs import Chain, Product, packaged_chain
from privproc.attestation.sevsnp.configfs import (
    GUID_ARK,
    GUID_ASK,
    GUID_VCEK,
    encode_cert_table,
    parse_cert_table,
    sevsnp_evidence,
)
from privproc.attestation.sevsnp.verify import load_vcek, verify_report
from privproc.attestation.tsm import request_report
from privproc.errors import AttestationError, ConfigError, DecodeError
from tests._vectors import vector_path

from .snp_synth import START, make

D = vector_path("attestation", "sev-snp")
REPORT = (D / "attestation.bin").read_bytes()
VCEK = (D / "vcek.der").read_bytes()


def _der_chain() -> tuple[bytes, bytes]:
    from cryptography.hazmat.primitives.serialization import Encoding

    chain = packaged_chain(Product.MILAN)
    return chain.ask.public_bytes(Encoding.DER), chain.ark.public_bytes(Encoding.DER)


def _record(
    root: Path,
    name: str,
    outblob: bytes,
    auxblob: bytes | None,
    provider: str = "sev_guest",
    generation: str = "1",
) -> Path:
    entry = root / name
    entry.mkdir(parents=True)
    (entry / "outblob").write_bytes(outblob)
    if auxblob is not None:
        (entry / "auxblob").write_bytes(auxblob)
    (entry / "provider").write_text(provider + "\n")
    (entry / "generation").write_text(generation + "\n")
    return entry


def test_replays_recorded_tree_with_real_report(tmp_path: Path) -> None:
    ask, ark = _der_chain()
    aux = encode_cert_table({GUID_VCEK: VCEK, GUID_ASK: ask, GUID_ARK: ark})
    entry = _record(tmp_path, "e1", REPORT, aux)
    inblob = bytes.fromhex("0102030405") + bytes(59)
    got = request_report(inblob, root=tmp_path, name="e1")
    assert (entry / "inblob").read_bytes() == inblob
    assert got.provider == "sev_guest"
    assert got.generation == 1
    assert got.outblob == REPORT
    table = parse_cert_table(got.auxblob)
    assert table == {GUID_VCEK: VCEK, GUID_ASK: ask, GUID_ARK: ark}
    from datetime import UTC, datetime

    verified = verify_report(
        got.outblob,
        table[GUID_VCEK],
        Chain(ask=load_vcek(ask), ark=load_vcek(ark)),
        policy=Policy(measurements=frozenset({REPORT[0x90:0xC0]}), allow_debug=True),
        now=datetime(2023, 1, 1, tzinfo=UTC),
        report_data=inblob,
    )
    assert verified.product is Product.MILAN


def test_evidence_refused_when_kernel_report_binds_other_data(tmp_path: Path) -> None:
    _record(tmp_path, "e1", REPORT, encode_cert_table({GUID_VCEK: VCEK}))
    with pytest.raises(AttestationError) as info:
        sevsnp_evidence(b"\x04" * 65, timestamp=START, root=tmp_path, name="e1")
    assert info.value.check == "tsm.report_data"


def test_evidence_end_to_end_with_synthetic_hardware(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tcb = Tcb(bootloader=9, tee=0, snp=21, microcode=209)
    amd = make(Product.GENOA, tcb, bytes(range(64)))
    amd.pin(monkeypatch)
    key, ts, meas = b"\x04" + bytes(64), START + timedelta(days=1), bytes(48)
    report = amd.report(report_data=binding(key, freshness_value(ts)), measurement=meas)
    vcek, ask, ark = amd.endorsements
    _record(
        tmp_path, "e1", report, encode_cert_table({GUID_VCEK: vcek, GUID_ASK: ask, GUID_ARK: ark})
    )
    ev = sevsnp_evidence(key, timestamp=ts, root=tmp_path, name="e1")
    assert ev.endorsements == (vcek, ask, ark)
    node = verify(
        ev,
        policy=Policy(measurements=frozenset({meas}), min_tcb=tcb),
        now=ts + timedelta(minutes=1),
    )
    assert node.node_key == key


def test_vcek_supplied_when_host_has_no_certificates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tcb = Tcb(bootloader=1, tee=0, snp=1, microcode=1)
    amd = make(Product.MILAN, tcb, bytes(64))
    key, ts = b"\x04" + bytes(64), START + timedelta(days=1)
    report = amd.report(report_data=binding(key, freshness_value(ts)), measurement=bytes(48))
    _record(tmp_path, "e1", report, None)
    with pytest.raises(ConfigError):
        sevsnp_evidence(key, timestamp=ts, root=tmp_path, name="e1")
    _record(tmp_path, "e2", report, None)
    ev = sevsnp_evidence(key, timestamp=ts, root=tmp_path, name="e2", vcek=amd.endorsements[0])
    assert ev.endorsements == (amd.endorsements[0],)


def test_generation_race_detected(tmp_path: Path) -> None:
    _record(tmp_path, "e1", REPORT, None, generation="2")
    with pytest.raises(AttestationError) as info:
        request_report(bytes(64), root=tmp_path, name="e1")
    assert info.value.check == "tsm.generation"


def test_missing_configfs_and_wrong_provider(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        request_report(bytes(64), root=tmp_path / "absent")
    _record(tmp_path, "e1", REPORT, None, provider="tdx_guest")
    with pytest.raises(ConfigError):
        sevsnp_evidence(b"k", timestamp=START, root=tmp_path, name="e1", vcek=VCEK)


def test_fresh_entry_without_a_kernel_fails_closed(tmp_path: Path) -> None:
    # A plain directory stands in for configfs: the kernel would create outblob etc.
    with pytest.raises(ConfigError):
        request_report(bytes(64), root=tmp_path)
    assert list(tmp_path.iterdir()) != []  # the entry and its inblob were written


@given(st.binary(max_size=300))
def test_cert_table_parser_raises_only_decode_error(data: bytes) -> None:
    try:
        table = parse_cert_table(data)
    except DecodeError:
        return
    assert all(isinstance(v, bytes) for v in table.values())


def test_cert_table_refuses_out_of_bounds() -> None:
    raw = bytearray(encode_cert_table({GUID_VCEK: b"abc"}))
    raw[20] = 0xFF  # length
    with pytest.raises(DecodeError):
        parse_cert_table(bytes(raw))


TDX_QUOTE = vector_path("attestation", "tdx", "tdx_quote").read_bytes()
TDX_COLLATERAL = vector_path("attestation", "tdx", "tdx_quote_collateral.json").read_bytes()


def test_tdx_evidence_from_recorded_tree(tmp_path: Path) -> None:
    from privproc.attestation.tdx.configfs import tdx_evidence

    key, ts = b"\x04" + bytes(64), START
    want = binding(key, freshness_value(ts))
    # The real quote with our REPORTDATA spliced in: assembled as evidence, refused by the
    # verifier because the splice breaks the quote's signature.
    spliced = TDX_QUOTE[: 48 + 520] + want + TDX_QUOTE[48 + 584 :]
    _record(tmp_path, "t1", spliced, None, provider="tdx_guest")
    ev = tdx_evidence(key, timestamp=ts, collateral=TDX_COLLATERAL, root=tmp_path, name="t1")
    assert ev.report == spliced
    assert ev.endorsements == (TDX_COLLATERAL,)
    pytest.importorskip("dcap_qvl")
    from datetime import UTC, datetime

    with pytest.raises(AttestationError) as info:
        verify(ev, policy=Policy(measurements=frozenset()), now=datetime(2025, 6, 20, tzinfo=UTC))
    assert info.value.check == "tdx.quote.signature"


def test_tdx_evidence_refuses_quote_for_other_data(tmp_path: Path) -> None:
    from privproc.attestation.tdx.configfs import tdx_evidence

    _record(tmp_path, "t1", TDX_QUOTE, None, provider="tdx_guest")
    with pytest.raises(AttestationError) as info:
        tdx_evidence(b"k", timestamp=START, collateral=b"{}", root=tmp_path, name="t1")
    assert info.value.check == "tsm.report_data"
    _record(tmp_path, "t2", TDX_QUOTE, None, provider="sev_guest")
    with pytest.raises(ConfigError):
        tdx_evidence(b"k", timestamp=START, collateral=b"{}", root=tmp_path, name="t2")
