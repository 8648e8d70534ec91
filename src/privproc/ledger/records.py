"""Ledger records: releases, gateway key configs, revocations, signed by the publisher.

Encoding (our own, documented in docs/ledger.md): **canonical JSON** — UTF-8,
object keys sorted, no whitespace (``separators=(",", ":")``), ASCII only,
integers only (no floats), byte strings as lowercase hex. Every record carries
``"v": 1`` (the format version) and ``"type"``. A log entry is a
:class:`SignedRecord`::

    {"key_id":"<8 hex>","publisher":"<key name>","record":{...},"signature":"<base64>"}

where ``signature`` is Ed25519 (RFC 8032) by the publisher over
``b"privproc/record/v1\\n" || canonical(record)``, and ``publisher``/``key_id``
name the key as a C2SP signed-note vkey of type 0x01 does. (The message has no
final newline, so it can never be a valid signed-note text: no cross-protocol
signature.) Decoding is strict: unknown or missing fields, wrong types, duplicate
keys, floats and any non-canonical byte (re-encoding must give the same bytes)
raise :class:`~privproc.errors.DecodeError`.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc.attestation.tcb import Tcb
from privproc.canonical import canonical_json
from privproc.errors import DecodeError, LedgerError, MisuseError
from privproc.ledger.note import (
    ALG_ED25519,
    Ed25519Verifier,
    b64decode_strict,
    check_key_name,
    key_id,
    public_key_bytes,
)

__all__ = [
    "FORMAT_VERSION",
    "RELEASE_PLATFORMS",
    "KeyConfigRecord",
    "Record",
    "ReleaseRecord",
    "RevocationRecord",
    "SignedRecord",
    "canonical_json",
    "decode_record",
    "encode_record",
    "record_message",
    "sign_record",
]

#: The record format version, ``"v"`` in every record.
FORMAT_VERSION = 1
_MAX_ENTRY = 0xFFFF  # a record must fit one tlog-tiles entry
_MAX_INT = (1 << 63) - 1
_DOMAIN = b"privproc/record/v1\n"
#: The platforms a release can name (DESIGN.md "Real hardware"): the CPU TEE, optionally
#: with an NVIDIA GPU in confidential-computing mode.
RELEASE_PLATFORMS = ("sev-snp", "sev-snp+nvidia-cc", "simulated", "tdx")
_TCB_KEYS = {"bl": "bootloader", "tee": "tee", "snp": "snp", "ucode": "microcode", "fmc": "fmc"}


def _check_text(value: str, what: str, max_len: int = 256) -> None:
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise MisuseError(f"{what} must be a non-empty string of at most {max_len} characters")
    if any(ord(c) < 0x20 for c in value):
        raise MisuseError(f"{what} holds a control character")


def _check_bytes(value: bytes, what: str, lo: int, hi: int) -> None:
    if not isinstance(value, bytes) or not lo <= len(value) <= hi:
        raise MisuseError(f"{what} must be {lo}..{hi} bytes")


def _check_int(value: int, what: str) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_INT:
        raise MisuseError(f"{what} must be an integer in 0..2^63-1")


@dataclass(frozen=True, slots=True)
class ReleaseRecord:
    """A release of a component: what a node runs, on which hardware, and how to rebuild it.

    ``measurements`` maps a platform name (``"sev-snp"``, ``"tdx"``, ``"simulated"``...)
    to the launch measurement a node of that platform reports, as sorted
    (platform, bytes) pairs. ``platform`` is the hardware this release runs on (one of
    :data:`RELEASE_PLATFORMS`; its CPU part must have a measurement): the device builds
    its verification policy from it, never from the node. ``min_tcb`` is the lowest TCB
    a node's endorsement may carry (SEV-SNP and simulated; ``None``: no minimum).
    ``gpu_rims`` (``+nvidia-cc`` only): the reference value of each GPU measurement
    index, SHA-384, from NVIDIA's driver and VBIOS RIMs, recorded at release time
    (docs/attestation.md, "GPU").
    """

    component: str
    version: str
    measurements: tuple[tuple[str, bytes], ...]
    source_revision: str
    recipe_digest: bytes
    model_digest: bytes
    issued_at: int
    platform: str = "simulated"
    min_tcb: Tcb | None = None
    gpu_rims: tuple[tuple[int, bytes], ...] = ()

    def __post_init__(self) -> None:
        _check_text(self.component, "component")
        _check_text(self.version, "version")
        _check_text(self.source_revision, "source_revision")
        if not self.measurements:
            raise MisuseError("a release needs at least one measurement")
        platforms = [p for p, _ in self.measurements]
        if platforms != sorted(set(platforms)):
            raise MisuseError("measurements must be sorted by platform, one per platform")
        for platform, m in self.measurements:
            _check_text(platform, "platform", 64)
            _check_bytes(m, "measurement", 16, 64)
        _check_bytes(self.recipe_digest, "recipe_digest", 32, 32)
        _check_bytes(self.model_digest, "model_digest", 32, 32)
        _check_int(self.issued_at, "issued_at")
        if self.platform not in RELEASE_PLATFORMS:
            raise MisuseError(f"platform must be one of {RELEASE_PLATFORMS}")
        if self.measurement_for(self.cpu_platform) is None:
            raise MisuseError(f"a {self.platform} release needs a {self.cpu_platform} measurement")
        if self.min_tcb is not None and (
            not isinstance(self.min_tcb, Tcb) or self.cpu_platform == "tdx"
        ):
            raise MisuseError("min_tcb is a Tcb, for sev-snp or simulated releases")
        if self.gpu != bool(self.gpu_rims):
            raise MisuseError("gpu_rims are required for, and only for, a +nvidia-cc release")
        indices = [i for i, _ in self.gpu_rims]
        if indices != sorted(set(indices)):
            raise MisuseError("gpu_rims must be sorted by index, one per index")
        for index, digest in self.gpu_rims:
            if not isinstance(index, int) or not 1 <= index <= 254:
                raise MisuseError("a GPU measurement index is 1..254")
            _check_bytes(digest, "RIM digest", 48, 48)

    @property
    def cpu_platform(self) -> str:
        """The CPU TEE part of ``platform`` (``"sev-snp"`` for ``"sev-snp+nvidia-cc"``)."""
        return self.platform.split("+", 1)[0]

    @property
    def gpu(self) -> bool:
        """Whether the release runs with an NVIDIA GPU in confidential-computing mode."""
        return self.platform.endswith("+nvidia-cc")

    def measurement_for(self, platform: str) -> bytes | None:
        """The measurement for ``platform``, if this release has one."""
        return dict(self.measurements).get(platform)

    def to_json(self) -> dict[str, object]:
        """The record as a JSON object (before canonical encoding)."""
        out: dict[str, object] = {
            "v": FORMAT_VERSION,
            "type": "release",
            "component": self.component,
            "version": self.version,
            "platform": self.platform,
            "measurements": {p: m.hex() for p, m in self.measurements},
            "source_revision": self.source_revision,
            "recipe_digest": self.recipe_digest.hex(),
            "model_digest": self.model_digest.hex(),
            "issued_at": self.issued_at,
        }
        if self.min_tcb is not None:
            out["min_tcb"] = {
                k: getattr(self.min_tcb, f)
                for k, f in _TCB_KEYS.items()
                if getattr(self.min_tcb, f) is not None
            }
        if self.gpu_rims:
            out["gpu_rims"] = {str(i): d.hex() for i, d in self.gpu_rims}
        return out


@dataclass(frozen=True, slots=True)
class KeyConfigRecord:
    """A gateway's OHTTP key config (RFC 9458 §3 bytes) and its validity window."""

    key_config: bytes
    not_before: int
    not_after: int

    def __post_init__(self) -> None:
        _check_bytes(self.key_config, "key_config", 1, 4096)
        _check_int(self.not_before, "not_before")
        _check_int(self.not_after, "not_after")
        if self.not_after <= self.not_before:
            raise MisuseError("not_after must be after not_before")

    def to_json(self) -> dict[str, object]:
        """The record as a JSON object (before canonical encoding)."""
        return {
            "v": FORMAT_VERSION,
            "type": "key_config",
            "key_config": self.key_config.hex(),
            "not_before": self.not_before,
            "not_after": self.not_after,
        }


_REVOCATION_KINDS = ("key_config", "measurement")


@dataclass(frozen=True, slots=True)
class RevocationRecord:
    """Revokes a measurement (its bytes) or a key config (SHA-256 of its bytes)."""

    kind: str
    target: bytes
    reason: str
    revoked_at: int

    def __post_init__(self) -> None:
        if self.kind not in _REVOCATION_KINDS:
            raise MisuseError(f"revocation kind must be one of {_REVOCATION_KINDS}")
        _check_bytes(self.target, "target", 16, 64)
        _check_text(self.reason, "reason", 1024)
        _check_int(self.revoked_at, "revoked_at")

    def to_json(self) -> dict[str, object]:
        """The record as a JSON object (before canonical encoding)."""
        return {
            "v": FORMAT_VERSION,
            "type": "revocation",
            "kind": self.kind,
            "target": self.target.hex(),
            "reason": self.reason,
            "revoked_at": self.revoked_at,
        }


Record = ReleaseRecord | KeyConfigRecord | RevocationRecord


def record_message(record: Record) -> bytes:
    """The bytes the publisher signs: ``privproc/record/v1\\n || canonical(record)``."""
    return _DOMAIN + canonical_json(record.to_json())


@dataclass(frozen=True, slots=True)
class SignedRecord:
    """A record with the publisher's Ed25519 signature; what the log stores as an entry."""

    record: Record
    publisher: str
    key_id: bytes
    signature: bytes

    def __post_init__(self) -> None:
        check_key_name(self.publisher)
        _check_bytes(self.key_id, "key_id", 4, 4)
        _check_bytes(self.signature, "signature", 64, 64)

    def verify(self, publisher: Ed25519Verifier) -> Record:
        """Check the publisher's signature; return the record or raise LedgerError."""
        if (self.publisher, self.key_id) != (publisher.name, publisher.key_id):
            raise LedgerError(
                "record.publisher",
                "record signed by an unknown publisher key",
                expected=publisher.vkey(),
                found=f"{self.publisher}+{self.key_id.hex()}",
            )
        try:
            publisher.verify(record_message(self.record).decode("ascii"), self.signature)
        except LedgerError:
            raise LedgerError("record.signature", "publisher signature does not verify") from None
        return self.record


def sign_record(record: Record, publisher: str, private_key: Ed25519PrivateKey) -> SignedRecord:
    """Sign a record as ``publisher`` (key id as for a signed-note type 0x01 key)."""
    kid = key_id(publisher, ALG_ED25519, public_key_bytes(private_key))
    return SignedRecord(record, publisher, kid, private_key.sign(record_message(record)))


def encode_record(signed: SignedRecord) -> bytes:
    """The canonical bytes of a signed record (a log entry)."""
    out = canonical_json(
        {
            "key_id": signed.key_id.hex(),
            "publisher": signed.publisher,
            "record": signed.record.to_json(),
            "signature": base64.b64encode(signed.signature).decode(),
        }
    )
    if len(out) > _MAX_ENTRY:
        raise MisuseError("record does not fit in a log entry")
    return out


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise DecodeError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _no_float(_: str) -> Any:
    raise DecodeError("floats are not allowed")


def _obj(value: object, keys: set[str], what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DecodeError(f"{what}: not an object")
    if set(value) != keys:
        raise DecodeError(f"{what}: fields {sorted(value)} are not {sorted(keys)}")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise DecodeError(f"{what}: not a string")
    return value


def _int(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise DecodeError(f"{what}: not an integer")
    return value


def _hex(value: object, what: str) -> bytes:
    text = _str(value, what)
    if any(c not in "0123456789abcdef" for c in text) or len(text) % 2:
        raise DecodeError(f"{what}: not lowercase hex")
    return bytes.fromhex(text)


def _tcb(value: object) -> Tcb:
    if not isinstance(value, dict) or not {"bl", "tee", "snp", "ucode"} <= set(value) <= set(
        _TCB_KEYS
    ):
        raise DecodeError("release.min_tcb: needs bl, tee, snp, ucode (and optionally fmc)")
    fields = {_TCB_KEYS[k]: _int(v, f"min_tcb.{k}") for k, v in value.items()}
    return Tcb(**fields)


def _rims(value: object) -> tuple[tuple[int, bytes], ...]:
    if not isinstance(value, dict) or not value:
        raise DecodeError("release.gpu_rims: not a non-empty object")
    out = []
    for key, digest in value.items():
        if not isinstance(key, str) or not key.isdigit() or str(int(key)) != key:
            raise DecodeError("release.gpu_rims: keys are decimal measurement indices")
        out.append((int(key), _hex(digest, "gpu_rims digest")))
    return tuple(sorted(out))


def _record_from_json(obj: object) -> Record:
    if not isinstance(obj, dict):
        raise DecodeError("record: not an object")
    if obj.get("v") != FORMAT_VERSION or isinstance(obj.get("v"), bool):
        raise DecodeError(f"record: unsupported format version {obj.get('v')!r}")
    kind = obj.get("type")
    if kind == "release":
        optional = {"min_tcb", "gpu_rims"} & set(obj)
        o = _obj(
            obj,
            {
                "v",
                "type",
                "component",
                "version",
                "platform",
                "measurements",
                "source_revision",
                "recipe_digest",
                "model_digest",
                "issued_at",
            }
            | optional,
            "release",
        )
        ms = o["measurements"]
        if not isinstance(ms, dict):
            raise DecodeError("release.measurements: not an object")
        return ReleaseRecord(
            _str(o["component"], "component"),
            _str(o["version"], "version"),
            tuple(sorted((_str(p, "platform"), _hex(m, "measurement")) for p, m in ms.items())),
            _str(o["source_revision"], "source_revision"),
            _hex(o["recipe_digest"], "recipe_digest"),
            _hex(o["model_digest"], "model_digest"),
            _int(o["issued_at"], "issued_at"),
            _str(o["platform"], "platform"),
            _tcb(o["min_tcb"]) if "min_tcb" in o else None,
            _rims(o["gpu_rims"]) if "gpu_rims" in o else (),
        )
    if kind == "key_config":
        o = _obj(obj, {"v", "type", "key_config", "not_before", "not_after"}, "key_config")
        return KeyConfigRecord(
            _hex(o["key_config"], "key_config"),
            _int(o["not_before"], "not_before"),
            _int(o["not_after"], "not_after"),
        )
    if kind == "revocation":
        o = _obj(obj, {"v", "type", "kind", "target", "reason", "revoked_at"}, "revocation")
        return RevocationRecord(
            _str(o["kind"], "kind"),
            _hex(o["target"], "target"),
            _str(o["reason"], "reason"),
            _int(o["revoked_at"], "revoked_at"),
        )
    raise DecodeError(f"record: unknown type {kind!r}")


def decode_record(data: bytes) -> SignedRecord:
    """Parse a signed record strictly (it is NOT verified: call ``verify``)."""
    if len(data) > _MAX_ENTRY:
        raise DecodeError("record larger than a log entry")
    try:
        obj = json.loads(
            data.decode("ascii"),
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise DecodeError("record is not ASCII JSON") from None
    o = _obj(obj, {"key_id", "publisher", "record", "signature"}, "signed record")
    try:
        signed = SignedRecord(
            _record_from_json(o["record"]),
            _str(o["publisher"], "publisher"),
            _hex(o["key_id"], "key_id"),
            b64decode_strict(_str(o["signature"], "signature"), "signature"),
        )
    except MisuseError as exc:
        raise DecodeError(f"record: {exc}") from None
    if encode_record(signed) != data:
        raise DecodeError("record is not in canonical form")
    return signed
