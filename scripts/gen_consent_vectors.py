"""Generate tests/vectors/data/consent/chain.json: a consent event chain and a receipt.

The format is privproc's own (docs/consent.md), so these vectors pin it for other
implementations. Fixed inputs: account "u1" in DE, registered at 2026-01-01T00:00:00Z,
granted one hour later, refused (objection) two hours later; the receipt key is the
Ed25519 secret key of RFC 8032 §7.1 TEST 1. The test checks the vectors with the
code and independently (a hand-built canonical string hashed with hashlib).

Usage: PYTHONPATH=src python scripts/gen_consent_vectors.py
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from privproc.consent.events import ConsentState, new_event
from privproc.consent.receipt import issue_receipt

RFC8032_TEST1_SECRET = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"  # noqa: S105 - a published test key
OUT = Path(__file__).resolve().parents[1] / "tests/vectors/data/consent/chain.json"


def main() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    steps = [
        (ConsentState.UNSET, "register", t0),
        (ConsentState.GRANTED, "user", t0 + timedelta(hours=1)),
        (ConsentState.REFUSED, "objection", t0 + timedelta(hours=2, microseconds=250)),
    ]
    head = None
    events = []
    for state, source, when in steps:
        head = new_event(head, account="u1", state=state, source=source, region="DE", now=when)
        body = json.dumps(head.body(), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
        events.append({"event": head.to_json(), "hashed_text": body})
    assert head is not None
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(RFC8032_TEST1_SECRET))
    receipt = issue_receipt(head, key)
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    doc = {
        "about": "privproc consent event chain and receipt; see SOURCES.md",
        "event_domain": "privproc/consent/event/v1\\u0000",
        "receipt_domain": "privproc/consent/receipt/v1\\u0000",
        "signing_secret_key": RFC8032_TEST1_SECRET,
        "public_key": public.hex(),
        "events": events,
        "receipt": receipt.to_json(),
        "receipt_signed_hex": receipt.message().hex(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(doc, indent=2) + "\n")


if __name__ == "__main__":
    main()
