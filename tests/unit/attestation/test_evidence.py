"""Evidence model: canonical encoding round trip, strict decoding, binding."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privproc.attestation.evidence import (
    Evidence,
    Platform,
    binding,
    freshness_value,
    timestamp_of,
)
from privproc.errors import DecodeError, MisuseError

TS = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


def _evidence() -> Evidence:
    return Evidence(
        Platform.SIMULATED, b"r" * 296, (b"c1", b"c2"), b"k" * 32, freshness_value(TS), TS
    )


def test_round_trip() -> None:
    ev = _evidence()
    assert Evidence.decode(ev.encode()) == ev


def test_encoding_is_pinned() -> None:
    ev = Evidence(Platform.SEV_SNP, b"R", (b"C",), b"K", freshness_value(TS, b"n"), TS)
    ts = int(TS.timestamp()).to_bytes(8, "big")
    assert ev.encode() == (
        b"\x01\x00\x02"
        + b"\x00\x00\x01R"
        + b"\x01"
        + b"\x00\x00\x01C"
        + b"\x00\x01K"
        + b"\x09"
        + ts
        + b"n"
        + ts
    )


def test_binding_is_sha512_over_length_prefixed_fields() -> None:
    import hashlib

    label = b"privproc attestation binding v1"
    want = hashlib.sha512(bytes([len(label)]) + label + b"\x00\x03key" + b"\x00\x05fresh").digest()
    assert binding(b"key", b"fresh") == want
    assert len(want) == 64
    # length prefixes: moving a byte between key and freshness changes the binding
    assert binding(b"keyf", b"resh") != binding(b"key", b"fresh")


def test_freshness_carries_timestamp() -> None:
    assert timestamp_of(freshness_value(TS, b"abc")) == TS


@pytest.mark.parametrize("cut", [0, 1, 3, 10, 20])
def test_truncated_fails_to_decode(cut: int) -> None:
    with pytest.raises(DecodeError):
        Evidence.decode(_evidence().encode()[:cut])


def test_trailing_bytes_refused() -> None:
    with pytest.raises(DecodeError):
        Evidence.decode(_evidence().encode() + b"\x00")


def test_unknown_platform_and_version_refused() -> None:
    raw = bytearray(_evidence().encode())
    raw[2] = 0x99
    with pytest.raises(DecodeError):
        Evidence.decode(bytes(raw))
    raw = bytearray(_evidence().encode())
    raw[0] = 2
    with pytest.raises(DecodeError):
        Evidence.decode(bytes(raw))


def test_construction_validates() -> None:
    with pytest.raises(MisuseError):
        Evidence(Platform.SIMULATED, b"", (), b"k", freshness_value(TS), TS)
    with pytest.raises(MisuseError):
        Evidence(Platform.SIMULATED, b"r", (), b"k", b"short", TS)
    with pytest.raises(MisuseError):
        Evidence(Platform.SIMULATED, b"r", (), b"k", freshness_value(TS), TS.replace(tzinfo=None))


@given(st.binary(max_size=200))
def test_random_bytes_decode_or_raise_decode_error(data: bytes) -> None:
    try:
        ev = Evidence.decode(data)
    except DecodeError:
        return
    assert ev.encode() == data


@given(st.sampled_from(list(Platform)), st.binary(max_size=200))
def test_random_body_after_a_valid_header_decodes_or_raises_decode_error(
    platform: Platform, body: bytes
) -> None:
    data = bytes([1]) + int(platform).to_bytes(2, "big") + body
    try:
        ev = Evidence.decode(data)
    except DecodeError:
        return
    assert ev.encode() == data


@given(st.data())
def test_mutated_evidence_decodes_or_raises_decode_error(data: st.DataObject) -> None:
    encoded = _evidence().encode()
    i = data.draw(st.integers(0, len(encoded) - 1))
    mutated = encoded[:i] + bytes([data.draw(st.integers(0, 255))]) + encoded[i + 1 :]
    mutated = mutated[: data.draw(st.integers(0, len(mutated)))]
    try:
        ev = Evidence.decode(mutated)
    except DecodeError:
        return
    assert ev.encode() == mutated
