"""Obtain SEV-SNP evidence on a real guest through Linux configfs-tsm.

:func:`sevsnp_evidence` asks the kernel (:mod:`privproc.attestation.tsm`) for a
report over :func:`~privproc.attestation.evidence.binding` of the node key, and
reads the certificates the host supplies in ``auxblob``: the GUID table of the
GHCB specification 56421, "Certificate table" (VCEK, ASK, ARK).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

from privproc.attestation.evidence import Evidence, Platform
from privproc.attestation.sevsnp.report import parse_report
from privproc.attestation.tsm import TSM_REPORT_ROOT, request_bound_report
from privproc.errors import AttestationError, ConfigError, DecodeError

__all__ = [
    "GUID_ARK",
    "GUID_ASK",
    "GUID_VCEK",
    "GUID_VLEK",
    "encode_cert_table",
    "parse_cert_table",
    "sevsnp_evidence",
]

#: Certificate table GUIDs (GHCB specification 56421, "Certificate table").
GUID_VCEK = uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd")
GUID_VLEK = uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1")
GUID_ASK = uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782")
GUID_ARK = uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae")

_ENTRY = 24


def parse_cert_table(auxblob: bytes) -> dict[uuid.UUID, bytes]:
    """Parse an SEV-SNP certificate table: ``{GUID: certificate bytes}``.

    Entries of (GUID 16 bytes, offset u32 LE, length u32 LE), ended by an all-zero
    entry; offsets count from the table's start and must point past the header.
    Raises only :class:`DecodeError`.
    """
    out: dict[uuid.UUID, bytes] = {}
    pos = 0
    entries: list[tuple[uuid.UUID, int, int]] = []
    while True:
        if pos + _ENTRY > len(auxblob):
            raise DecodeError("certificate table: no terminating entry")
        raw = auxblob[pos : pos + _ENTRY]
        pos += _ENTRY
        if not any(raw):
            break
        guid = uuid.UUID(bytes=raw[:16])
        offset = int.from_bytes(raw[16:20], "little")
        length = int.from_bytes(raw[20:24], "little")
        entries.append((guid, offset, length))
    for guid, offset, length in entries:
        if offset < pos or offset + length > len(auxblob) or length == 0:
            raise DecodeError(f"certificate table: entry {guid} out of bounds")
        if guid in out:
            raise DecodeError(f"certificate table: duplicate entry {guid}")
        out[guid] = auxblob[offset : offset + length]
    return out


def encode_cert_table(certs: dict[uuid.UUID, bytes]) -> bytes:
    """Encode a certificate table (the inverse of :func:`parse_cert_table`)."""
    header = _ENTRY * (len(certs) + 1)
    table, body = b"", b""
    for guid, cert in certs.items():
        offset = header + len(body)
        table += guid.bytes + offset.to_bytes(4, "little") + len(cert).to_bytes(4, "little")
        body += cert
    return table + bytes(_ENTRY) + body


def sevsnp_evidence(
    node_key: bytes,
    *,
    timestamp: datetime,
    nonce: bytes = b"",
    root: Path = TSM_REPORT_ROOT,
    name: str | None = None,
    vcek: bytes | None = None,
) -> Evidence:
    """SEV-SNP :class:`Evidence` binding ``node_key`` at ``timestamp``, from configfs-tsm.

    The certificates come from ``auxblob`` (VCEK, and ASK and ARK when present);
    ``vcek`` supplies the VCEK (DER, fetched from AMD's KDS beforehand) when the
    host provides no certificates. The returned report is checked to carry the
    requested REPORT_DATA (``tsm.report_data``); full verification is the
    verifier's job.
    """
    bound = request_bound_report(
        node_key, provider="sev_guest", timestamp=timestamp, nonce=nonce, root=root, name=name
    )
    got, want = bound.tsm, bound.report_data
    try:
        report = parse_report(got.outblob)
        table = parse_cert_table(got.auxblob) if got.auxblob else {}
    except DecodeError as exc:
        raise AttestationError("tsm.outblob", str(exc)) from None
    if report.report_data != want:
        raise AttestationError(
            "tsm.report_data",
            "kernel returned a report for other data",
            expected=want.hex(),
            found=report.report_data.hex(),
        )
    leaf = table.get(GUID_VCEK, vcek)
    if leaf is None:
        raise ConfigError("no VCEK: the host supplied no certificates and none was given")
    endorsements: tuple[bytes, ...] = (leaf,)
    if GUID_ASK in table and GUID_ARK in table:
        endorsements = (leaf, table[GUID_ASK], table[GUID_ARK])
    return Evidence(
        Platform.SEV_SNP, got.outblob, endorsements, node_key, bound.freshness, bound.timestamp
    )
