"""Ask the Linux kernel for an attestation report through configfs-tsm.

With :mod:`.sevsnp.configfs` and :mod:`.tdx.configfs`, the only code of
:mod:`privproc.attestation` that does I/O; it runs on the node. Linux
(``Documentation/ABI/testing/configfs-tsm``) exposes the platform's report
interface under ``/sys/kernel/config/tsm/report``: make a directory, write up to
64 bytes of user data to ``inblob``, read the signed report from ``outblob``,
platform certificates from ``auxblob``, the driver name from ``provider``
(``sev_guest``, ``tdx_guest``) and from ``generation`` how many times the entry's
inputs were written, so a concurrent writer is detected.

The root path is a parameter, so tests replay a recorded tree under ``tmp_path``.
"""

from __future__ import annotations

import contextlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from privproc.attestation.evidence import binding, freshness_value
from privproc.errors import AttestationError, ConfigError, MisuseError

__all__ = ["TSM_REPORT_ROOT", "BoundReport", "TsmReport", "request_bound_report", "request_report"]

TSM_REPORT_ROOT = Path("/sys/kernel/config/tsm/report")

_INBLOB_MAX = 64
_OUTBLOB_MAX = 32 * 1024


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


@dataclass(frozen=True, slots=True)
class BoundReport:
    """A report the kernel made over :func:`~privproc.attestation.evidence.binding` of a
    node key: the kernel's answer and the evidence fields the binding covers."""

    tsm: TsmReport
    timestamp: datetime
    freshness: bytes
    report_data: bytes


def request_bound_report(
    node_key: bytes,
    *,
    provider: str,
    timestamp: datetime,
    nonce: bytes = b"",
    root: Path = TSM_REPORT_ROOT,
    name: str | None = None,
) -> BoundReport:
    """Ask ``provider`` (``sev_guest``, ``tdx_guest``) for a report whose user data is the
    binding of ``node_key`` and the freshness value of ``timestamp`` (whole seconds) and
    ``nonce``. Another provider is a :class:`ConfigError`; checking that the report carries
    the binding is the caller's job (it knows where the platform puts it)."""
    ts = timestamp.replace(microsecond=0)
    fresh = freshness_value(ts, nonce)
    want = binding(node_key, fresh)
    got = request_report(want, root=root, name=name)
    if got.provider != provider:
        raise ConfigError(f"configfs-tsm provider is {got.provider!r}, not {provider}")
    return BoundReport(got, ts, fresh, want)
