"""Obtain SEV-SNP evidence on a real guest through Linux configfs-tsm.

This is the one module of :mod:`privproc.attestation` that does I/O, and it runs
only on the node. Linux (``Documentation/ABI/testing/configfs-tsm``) exposes the
platform's report interface under ``/sys/kernel/config/tsm/report``: make a
directory, write up to 64 bytes of user data to ``inblob``, read the signed report
from ``outblob``, the certificates from ``auxblob`` (for SEV-SNP, the GUID table
of the GHCB specification 56421, "Certificate table": VCEK, ASK, ARK), the
driver name from ``provider`` (``sev_guest``) and from ``generation`` how many
times the entry's inputs were written, so a concurrent writer is detected.

The root path is a parameter, so tests replay a recorded tree under ``tmp_path``.
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from privproc.attestation.evidence import Evidence, Platform, binding, freshness_value
from privproc.attestation.sevsnp.report import parse_report
from privproc.errors import AttestationError, ConfigError, DecodeError, MisuseError

__all__ = [
    "GUID_ARK",
    "GUID_ASK",
    "GUID_VCEK",
    "GUID_VLEK",
    "TSM_REPORT_ROOT",
    "TsmReport",
    "encode_cert_table",
    "parse_cert_table",
    "request_report",
    "sevsnp_evidence",
]

TSM_REPORT_ROOT = Path("/sys/kernel/config/tsm/report")
#: Certificate table GUIDs (GHCB specification 56421, "Certificate table").
GUID_VCEK = uuid.UUID("63da758d-e664-4564-adc5-f4b93be8accd")
GUID_VLEK = uuid.UUID("a8074bc2-a25a-483e-aae6-39c045a0b8a1")
GUID_ASK = uuid.UUID("4ab7b379-bbac-4fe4-a02f-05aef327c782")
GUID_ARK = uuid.UUID("c0b406a4-a803-4952-9743-3fb6014cd0ae")

_INBLOB_MAX = 64
_OUTBLOB_MAX = 32 * 1024
_ENTRY = 24


@dataclass(frozen=True, slots=True)
class TsmReport:
    """What one configfs-tsm report entry returned."""

    provider: str
    generation: int
    outblob: bytes
    auxblob: bytes


def _read(path: Path, limit: int) -> bytes:
    try:
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise ConfigError(f"configfs-tsm: cannot read {path.name}: {exc.strerror}") from None
    if len(data) > limit:
        raise ConfigError(f"configfs-tsm: {path.name} larger than {limit} bytes")
    return data


def request_report(
    inblob: bytes,
    *,
    root: Path = TSM_REPORT_ROOT,
    name: str | None = None,
    privlevel: int | None = None,
) -> TsmReport:
    """Ask the kernel for a report over ``inblob`` (at most 64 bytes).

    Makes the entry ``root/name`` (a random name by default; an entry that already
    exists is used as it is, which is how a recorded tree is replayed), writes
    ``privlevel`` (optional) and ``inblob``, then reads ``outblob``, ``auxblob``,
    ``provider`` and ``generation``. ``generation`` must equal the number of writes
    made here, else another writer raced this one (``tsm.generation``). The entry
    is removed afterwards where the file system allows it.
    """
    if len(inblob) > _INBLOB_MAX:
        raise MisuseError("inblob is at most 64 bytes")
    if not root.is_dir():
        raise ConfigError(f"configfs-tsm not available at {root}")
    entry = root / (name or f"privproc-{secrets.token_hex(8)}")
    try:
        entry.mkdir(exist_ok=True)
        writes = 0
        if privlevel is not None:
            (entry / "privlevel").write_text(f"{privlevel}\n")
            writes += 1
        (entry / "inblob").write_bytes(inblob)
        writes += 1
    except OSError as exc:
        raise ConfigError(f"configfs-tsm: cannot write request: {exc.strerror}") from None
    try:
        outblob = _read(entry / "outblob", _OUTBLOB_MAX)
        auxblob = _read(entry / "auxblob", _OUTBLOB_MAX) if (entry / "auxblob").exists() else b""
        provider = _read(entry / "provider", 64).decode("ascii", "replace").strip()
        raw_gen = _read(entry / "generation", 32).decode("ascii", "replace").strip()
    finally:
        # A recorded tree (a plain directory holding files) cannot be removed this way.
        with contextlib.suppress(OSError):
            entry.rmdir()
    if not raw_gen.isdigit():
        raise ConfigError(f"configfs-tsm: generation is not a number: {raw_gen!r}")
    generation = int(raw_gen)
    if generation != writes:
        raise AttestationError(
            "tsm.generation",
            "report entry was written by someone else meanwhile",
            expected=writes,
            found=generation,
        )
    return TsmReport(provider, generation, outblob, auxblob)


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
    ts = timestamp.replace(microsecond=0)
    fresh = freshness_value(ts, nonce)
    want = binding(node_key, fresh)
    got = request_report(want, root=root, name=name)
    if got.provider != "sev_guest":
        raise ConfigError(f"configfs-tsm provider is {got.provider!r}, not sev_guest")
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
    return Evidence(Platform.SEV_SNP, got.outblob, endorsements, node_key, fresh, ts)
