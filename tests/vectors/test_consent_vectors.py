"""Consent event-chain and receipt vectors (tests/vectors/data/consent/SOURCES.md)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from privproc.consent.events import ConsentEvent, new_event, verify_chain
from privproc.consent.receipt import Receipt, issue_receipt, verify_receipt
from tests._vectors import load_json

# RFC 8032 §7.1 TEST 1: the public key of the vectors' signing key, and its signature
# of the empty message.
RFC8032_TEST1_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
RFC8032_TEST1_SIGNATURE = (
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555"
    "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
)


def _by_hand(e: dict[str, object]) -> str:
    """The canonical JSON of an event's body, written out without json.dumps."""
    return (
        f'{{"account":"{e["account"]}","prev":"{e["prev"]}","region":"{e["region"]}",'
        f'"seq":{e["seq"]},"source":"{e["source"]}","state":"{e["state"]}",'
        f'"time":"{e["time"]}"}}'
    )


def test_event_hashes_independently() -> None:
    doc = load_json("consent", "chain.json")
    prev = "00" * 32
    for item in doc["events"]:
        event = item["event"]
        assert event["prev"] == prev
        text = _by_hand(event)
        assert text == item["hashed_text"]
        digest = hashlib.sha256(b"privproc/consent/event/v1\x00" + text.encode()).hexdigest()
        assert digest == event["hash"]
        prev = digest


def test_code_reproduces_the_chain() -> None:
    doc = load_json("consent", "chain.json")
    stored = [ConsentEvent.from_json(item["event"]) for item in doc["events"]]
    assert verify_chain(stored, account="u1") == stored[-1]
    head = None
    for event in stored:
        head = new_event(
            head,
            account=event.account,
            state=event.state,
            source=event.source,
            region=event.region,
            now=event.time,
        )
        assert head == event
    assert stored[0].time == datetime(2026, 1, 1, tzinfo=UTC)


def test_receipt_vector() -> None:
    doc = load_json("consent", "chain.json")
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(doc["signing_secret_key"]))
    public = bytes.fromhex(doc["public_key"])
    assert doc["public_key"] == RFC8032_TEST1_PUBLIC
    assert key.sign(b"").hex() == RFC8032_TEST1_SIGNATURE
    receipt = Receipt.from_json(doc["receipt"])
    r = doc["receipt"]
    signed = (
        b"privproc/consent/receipt/v1\x00"
        + (
            f'{{"account":"{r["account"]}","event_hash":"{r["event_hash"]}",'
            f'"key_id":"{r["key_id"]}","seq":{r["seq"]},"state":"{r["state"]}",'
            f'"time":"{r["time"]}"}}'
        ).encode()
    )
    assert signed.hex() == doc["receipt_signed_hex"] == receipt.message().hex()
    Ed25519PublicKey.from_public_bytes(public).verify(receipt.signature, signed)
    assert verify_receipt(receipt, public) == receipt
    head = ConsentEvent.from_json(doc["events"][-1]["event"])
    assert receipt.event_hash == head.hash
    assert issue_receipt(head, key) == receipt
    assert r["key_id"] == hashlib.sha256(public).hexdigest()[:16]
