"""Regenerate vcek_parse_regressions.json: random 1-2 byte edits to sev-snp/vcek.der
(random.Random(5)), keeping the first edit that makes cryptography raise each kind of
non-ValueError exception (or a ValueError only when a lazily parsed field is read).

Usage: python tests/vectors/data/attestation/gen_vcek_parse_regressions.py
"""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

HERE = Path(__file__).resolve().parent
NAMES = {
    "UnsupportedAlgorithm": "UnsupportedAlgorithm",
    "ValueError": "ValueError_lazy_field",
    "InvalidVersion": "InvalidVersion",
    "DuplicateExtension": "DuplicateExtension",
    "TypeError": "TypeError_name_attribute",
}


def _naive(der: bytes) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            return  # refused at load with the documented exception: not a regression
        _ = (cert.issuer, cert.subject, cert.signature_hash_algorithm, cert.public_key())
        _ = (list(cert.extensions), cert.not_valid_before_utc)


def main() -> None:
    vcek = (HERE / "sev-snp" / "vcek.der").read_bytes()
    rnd = random.Random(5)
    found: dict[str, list[list[int]]] = {}
    for _ in range(200_000):
        raw = bytearray(vcek)
        edits = []
        for _ in range(rnd.randint(1, 2)):
            offset, value = rnd.randrange(len(raw)), rnd.randrange(256)
            raw[offset] = value
            edits.append([offset, value])
        try:
            _naive(bytes(raw))
        except Exception as exc:
            name = NAMES.get(type(exc).__name__, type(exc).__name__)
            found.setdefault(name, edits)
        if len(found) == len(NAMES):
            break
    print(json.dumps(found))


if __name__ == "__main__":
    main()
