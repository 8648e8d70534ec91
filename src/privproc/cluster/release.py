"""``privproc release``: measure the enclave release and record it in the ledger.

The release record (privproc.ledger.records.ReleaseRecord) names the simulated
platform's measurement of the installed enclave code, the model files and the
release config (privproc.attestation.measure), signed by the operator's
publisher key, and is appended to the ledger; witnesses then cosign a
checkpoint that includes it.

``privproc revoke`` appends a revocation record (same publisher key) naming a
measurement, or a gateway key config by the SHA-256 of its bytes; devices then
refuse it (``release.revoked`` / ``keyconfig.revoked``, privproc.client.verify).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privproc import __version__
from privproc.attestation import Tcb, measure_release
from privproc.attestation.measure import model_digest
from privproc.errors import MisuseError
from privproc.ledger.records import ReleaseRecord, RevocationRecord, encode_record, sign_record
from privproc.ledger_service.client import LedgerClient

__all__ = ["COMPONENT", "Release", "measure", "record_release", "record_revocation"]

COMPONENT = "privproc-enclave"
_RECIPE = b"privproc simulated enclave recipe v1: python -m privproc.enclave"


@dataclass(frozen=True, slots=True)
class Release:
    """What was recorded: the measurement and the ledger index."""

    measurement: bytes
    index: int
    version: str
    model_digest: bytes = bytes(32)


def _model_digest(generative_model: Path | None = None) -> bytes:
    from privproc.workloads import model_files

    return model_digest(model_files(), generative_model)


def measure(config: bytes = b"", generative_model: Path | None = None) -> bytes:
    """The measurement a simulated node running this release reports (``generative_model``:
    the GGUF file a node started with ``--model`` serves)."""
    from privproc.workloads.minilm import model_dir

    return measure_release(model_dir=model_dir(), config=config, generative_model=generative_model)


def record_release(
    ledger_url: str,
    ledger_token: str,
    publisher: tuple[str, Ed25519PrivateKey],
    *,
    config: bytes = b"",
    source_revision: str = "0" * 40,
    platform: str = "simulated",
    min_tcb: Tcb | None = None,
    gpu_rims: tuple[tuple[int, bytes], ...] = (),
    generative_model: Path | None = None,
) -> Release:
    """Measure, sign and append the release record; return its index.

    ``platform``: the release record's platform (``simulated``, ``sev-snp``, ``tdx``);
    for ``sev-snp`` the measurement is the launch digest the (emulated) AMD-SP reports,
    which for the emulated platform is :func:`measure` of the release
    (docs/attestation.md, "Measurement"); for ``tdx`` it is the ``td_measurement`` of
    the MRTD and RTMRs an emulated TD booting that image reports
    (:func:`~privproc.attestation.emulated.tdx.emulated_td_measurement`).
    ``min_tcb``: the lowest TCB devices accept.
    ``gpu_rims``: for ``+nvidia-cc``, the GPU's reference digests (index, SHA-384).
    ``generative_model``: the GGUF file the release's nodes serve (``--model``): measured,
    and the record's ``model_digest`` is its SHA-256.
    """
    measurement = measure(config, generative_model)
    cpu = platform.split("+", 1)[0]
    if cpu == "tdx":
        from privproc.attestation.emulated.tdx import emulated_td_measurement

        measurement = emulated_td_measurement(measurement)
    record = ReleaseRecord(
        component=COMPONENT,
        version=__version__,
        measurements=((cpu, measurement),),
        source_revision=source_revision,
        recipe_digest=hashlib.sha256(_RECIPE).digest(),
        model_digest=_model_digest(generative_model),
        issued_at=int(time.time()),
        platform=platform,
        min_tcb=min_tcb,
        gpu_rims=gpu_rims,
    )
    name, key = publisher
    with LedgerClient(ledger_url, token=ledger_token) as client:
        index = client.add(encode_record(sign_record(record, name, key)))
    return Release(measurement, index, __version__, record.model_digest)


def record_revocation(
    ledger_url: str,
    ledger_token: str,
    publisher: tuple[str, Ed25519PrivateKey],
    *,
    kind: str,
    target: bytes,
    reason: str,
) -> int:
    """Sign and append a revocation of ``target`` (a measurement, or the SHA-256 of a
    key config); return its ledger index."""
    if not reason:
        raise MisuseError("a revocation needs a reason")
    record = RevocationRecord(kind, target, reason, int(time.time()))
    name, key = publisher
    with LedgerClient(ledger_url, token=ledger_token) as client:
        return client.add(encode_record(sign_record(record, name, key)))
