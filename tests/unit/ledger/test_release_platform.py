"""Release records name their platform, minimum TCB and GPU RIM digests (issue 13)."""

from __future__ import annotations

import dataclasses

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.attestation import Tcb
from privproc.errors import DecodeError, MisuseError
from privproc.ledger.records import ReleaseRecord, decode_record, encode_record, sign_record

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
BASE = ReleaseRecord(
    component="enclave",
    version="2.0.0",
    measurements=(("sev-snp", b"\x01" * 48),),
    source_revision="0" * 40,
    recipe_digest=b"\x03" * 32,
    model_digest=b"\x04" * 32,
    issued_at=1_790_000_000,
    platform="sev-snp",
    min_tcb=Tcb(bootloader=4, tee=0, snp=22, microcode=213),
)


@pytest.mark.parametrize(
    "record",
    [
        BASE,
        dataclasses.replace(BASE, min_tcb=None),
        dataclasses.replace(BASE, min_tcb=Tcb(1, 2, 3, 4, fmc=5)),
        dataclasses.replace(
            BASE, platform="sev-snp+nvidia-cc", gpu_rims=((2, b"\x05" * 48), (9, b"\x06" * 48))
        ),
    ],
    ids=["tcb", "no-tcb", "turin-tcb", "gpu"],
)
def test_roundtrip(record: ReleaseRecord) -> None:
    data = encode_record(sign_record(record, "publisher.example", KEY))
    assert b'"platform":"' + record.platform.encode() + b'"' in data
    assert decode_record(data).record == record


def test_default_platform_is_simulated() -> None:
    record = dataclasses.replace(
        BASE, measurements=(("simulated", b"\x02" * 48),), platform="simulated", min_tcb=None
    )
    assert record.cpu_platform == "simulated"
    assert not record.gpu


@pytest.mark.parametrize(
    "changes",
    [
        {"platform": "sgx"},
        {"platform": "tdx"},  # no tdx measurement
        {"platform": "sev-snp+nvidia-cc"},  # no RIM digests
        {"gpu_rims": ((1, b"\x00" * 48),)},  # RIMs without a GPU
        {"measurements": (("tdx", b"\x01" * 48),), "platform": "tdx"},  # min_tcb on tdx
    ],
)
def test_inconsistent_records_are_refused_when_made(changes: dict[str, object]) -> None:
    with pytest.raises(MisuseError):
        dataclasses.replace(BASE, **changes)  # type: ignore[arg-type]


def test_a_record_without_platform_does_not_decode() -> None:
    data = encode_record(sign_record(BASE, "publisher.example", KEY))
    stripped = data.replace(b'"platform":"sev-snp",', b"")
    with pytest.raises(DecodeError):
        decode_record(stripped)


def test_min_tcb_with_an_unknown_component_does_not_decode() -> None:
    data = encode_record(sign_record(BASE, "publisher.example", KEY))
    with pytest.raises(DecodeError):
        decode_record(data.replace(b'"bl":4', b'"xx":4'))
