"""Parse an SPDM 1.1 GET_MEASUREMENTS transcript (DMTF DSP0274 1.1.0, §10.11).

The transcript is the request followed by the response, as NVIDIA's GPU
attestation report carries them::

    GET_MEASUREMENTS   SPDMVersion u8 | 0xE0 | Param1 u8 (bit 0: signature requested)
                       | Param2 u8 (0xFF: all measurements) | Nonce[32] | SlotIDParam u8
    MEASUREMENTS       SPDMVersion u8 | 0x60 | Param1 u8 | Param2 u8 | NumberOfBlocks u8
                       | MeasurementRecordLength u24 LE | MeasurementRecord
                       | Nonce[32] | OpaqueLength u16 LE | OpaqueData | Signature

    measurement block  Index u8 | MeasurementSpecification u8 (bit 0: DMTF)
                       | MeasurementSize u16 LE | DMTFSpecMeasurementValueType u8
                       | DMTFSpecMeasurementValueSize u16 LE | value

The signature (ECDSA P-384: r || s, 48 bytes each, big-endian) covers every byte
before it. Only version 1.1, signed requests for all measurements, and DMTF
measurement blocks are accepted. Raises only :class:`~privproc.errors.DecodeError`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from privproc._wire import Reader
from privproc.errors import DecodeError

__all__ = ["SIGNATURE_SIZE", "SPDM_VERSION_11", "MeasurementTranscript", "parse_transcript"]

SPDM_VERSION_11 = 0x11
SIGNATURE_SIZE = 96
_GET_MEASUREMENTS = 0xE0
_MEASUREMENTS = 0x60
_NONCE = 32


def _le(data: bytes) -> int:
    return int.from_bytes(data, "little")


@dataclass(frozen=True, slots=True)
class MeasurementTranscript:
    """A parsed transcript. ``measurements`` maps block index to value; ``signed`` is
    every byte the signature covers."""

    request_nonce: bytes
    slot_id: int
    responder_nonce: bytes
    measurements: Mapping[int, bytes]
    value_types: Mapping[int, int]
    opaque_data: bytes
    signature_r: int
    signature_s: int
    signed: bytes


def parse_transcript(data: bytes) -> MeasurementTranscript:
    """Parse GET_MEASUREMENTS + MEASUREMENTS (module docstring)."""
    r = Reader(data)
    if r.read_uint8("request version") != SPDM_VERSION_11:
        raise DecodeError("SPDM: request is not version 1.1")
    if r.read_uint8("request code") != _GET_MEASUREMENTS:
        raise DecodeError("SPDM: not a GET_MEASUREMENTS request")
    if not r.read_uint8("request param1") & 1:
        raise DecodeError("SPDM: request did not ask for a signature")
    if r.read_uint8("request param2") != 0xFF:
        raise DecodeError("SPDM: request did not ask for all measurements")
    request_nonce = r.read_bytes(_NONCE, "request nonce")
    slot_id = r.read_uint8("slot id")
    if r.read_uint8("response version") != SPDM_VERSION_11:
        raise DecodeError("SPDM: response is not version 1.1")
    if r.read_uint8("response code") != _MEASUREMENTS:
        raise DecodeError("SPDM: not a MEASUREMENTS response")
    r.read_bytes(2, "response params")
    count = r.read_uint8("number of blocks")
    record = Reader(r.read_bytes(_le(r.read_bytes(3, "record length")), "measurement record"))
    measurements: dict[int, bytes] = {}
    value_types: dict[int, int] = {}
    for _ in range(count):
        index = record.read_uint8("block index")
        if record.read_uint8("measurement specification") != 1:
            raise DecodeError(f"SPDM: block {index} is not a DMTF measurement")
        block = Reader(record.read_bytes(_le(record.read_bytes(2, "block size")), "block"))
        value_type = block.read_uint8("value type")
        value = block.read_bytes(_le(block.read_bytes(2, "value size")), "value")
        block.expect_end("measurement block")
        if index in measurements:
            raise DecodeError(f"SPDM: duplicate measurement index {index}")
        measurements[index] = value
        value_types[index] = value_type
    record.expect_end("measurement record")
    responder_nonce = r.read_bytes(_NONCE, "response nonce")
    opaque = r.read_bytes(_le(r.read_bytes(2, "opaque length")), "opaque data")
    signed_len = r.position
    signature = r.read_bytes(SIGNATURE_SIZE, "signature")
    r.expect_end("SPDM transcript")
    return MeasurementTranscript(
        request_nonce=request_nonce,
        slot_id=slot_id,
        responder_nonce=responder_nonce,
        measurements=MappingProxyType(measurements),
        value_types=MappingProxyType(value_types),
        opaque_data=opaque,
        signature_r=int.from_bytes(signature[:48], "big"),
        signature_s=int.from_bytes(signature[48:], "big"),
        signed=bytes(data[:signed_len]),
    )
