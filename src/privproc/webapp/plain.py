"""Plain words for the device's checks (what the page shows before any check name or hex).

One table: a check name (:mod:`privproc.client.verify`, DESIGN.md step 3) -> what passing
it means and what a refusal means, in words a messenger user reads. A check not in the
table falls back to its family (the part before the first dot), then to a generic sentence;
the check's own name is always shown next to the words, so nothing is hidden.
"""

from __future__ import annotations

__all__ = ["failed", "passed", "refused"]

#: check -> (what passing means, what a refusal means).
_CHECKS: dict[str, tuple[str, str]] = {
    "checkpoint": (
        "The public ledger's checkpoint is signed by the ledger and cosigned by independent"
        " witnesses",
        "The public ledger's checkpoint is not properly signed",
    ),
    "consistency": (
        "The ledger only grew since this device last looked: no history was rewritten",
        "The ledger's history does not match what this device saw before",
    ),
    "entries": (
        "Every ledger entry was checked against the checkpoint, so no revocation was hidden",
        "The ledger entries do not match the checkpoint",
    ),
    "keyconfig.consistency": (
        "The gateway's encryption key is the one the public ledger makes current for everyone",
        "The gateway's encryption key is not the one the public ledger makes current for"
        " everyone (a key for this device only could identify it)",
    ),
    "keyconfig.revoked": ("", "The gateway's encryption key was revoked in the public ledger"),
    "keyconfig.ledger": ("", "The gateway's encryption key is not in the public ledger"),
    "release.ledger": (
        "The node's code is published in the public ledger",
        "The node's code is not in the public ledger",
    ),
    "release.missing": ("", "The node's code is not in the public ledger"),
    "release.model": (
        "The node serves the model file the release names",
        "The node serves another model than the release names",
    ),
    "release.revoked": ("", "The node's code was revoked in the public ledger"),
    "release.platform": ("", "The node's hardware is not the platform its release names"),
    "attestation": (
        "The node's hardware proved it runs that code, with debugging off, and bound its key",
        "The node's hardware attestation does not verify",
    ),
    "policy.debug": ("", "The node runs in debug mode, so its memory could be read"),
    "policy.measurement": ("", "The node runs other code than the released one"),
    "policy.freshness": ("", "The node's attestation is too old"),
    "policy.tcb": ("", "The node's hardware firmware is older than the release allows"),
    "bundle.node_key": ("", "The node advertises a key its attestation does not bind"),
    "too_few_nodes": (
        "Enough verified nodes to choose from, so the operator cannot pick one for you",
        "Too few nodes passed verification to choose among",
    ),
    "bundle.too_few_nodes": ("", "Too few nodes passed verification to choose among"),
    "ledger.cosignatures.quorum": (
        "",
        "Not enough independent witnesses cosigned the ledger's checkpoint",
    ),
    "ledger.cosignatures.fresh": ("", "The witnesses' cosignatures are too old"),
    "ledger.fork": ("", "The ledger shows this device another history than before (a fork)"),
    "ledger.rollback": ("", "The ledger went back to an older state"),
    "trust.test_store": (
        "Test hardware roots are trusted on this device (never in production)",
        "Test hardware roots are trusted on this device",
    ),
    "client.ai_blocked": (
        "",
        "Advanced Chat Privacy is on for this chat: nothing was sent",
    ),
}

#: family (the part before the first dot) -> what a refusal means.
_FAMILIES: dict[str, str] = {
    "checkpoint": "The public ledger's checkpoint is not properly signed",
    "ledger": "The public ledger does not check out",
    "merkle": "A ledger proof does not verify",
    "record": "A ledger record is not signed by the publisher",
    "keyconfig": "The gateway's encryption key does not follow the public ledger's rule",
    "release": "The node's release does not check out in the public ledger",
    "binding": "The node's key is not bound to its hardware attestation",
    "simulated": "The node's attestation does not come from trusted hardware",
    "sevsnp": "The node's attestation does not come from trusted AMD hardware",
    "tdx": "The node's attestation does not come from trusted Intel hardware",
    "nvgpu": "The node's GPU attestation does not verify",
    "attestation": "The node's hardware attestation does not verify",
    "policy": "The node's attestation breaks the release's policy",
    "bundle": "The directory's list of nodes does not check out",
    "client": "This device's own rule refused the request",
}

#: error code (``PrivprocError.code``) of an error that names no check -> plain words.
_CODES: dict[str, str] = {
    "remote-error": "A party of the private path did not answer as it should",
    "node-refused": "The node refused the request",
    "open-failed": "The answer could not be opened: it was not sealed for this request",
    "crypto-error": "A cryptographic check failed",
    "quota-exceeded": "This device used up its AI requests for today",
    "rate-limited": "Too many requests right now; try again in a moment",
    "replay": "A one-time token was refused as already spent",
    "bad-token": "The anonymous token was refused",
    "config": "This device is not set up: run `privproc up` first",
    "store-unavailable": "The device could not read or write its own state",
    "child-failed": "The node could not finish the request",
    "decode-error": "Something received does not parse",
    "misuse": "The request is not valid",
    "not-found": "No such chat",
}

_PASSED = "Checked"
_REFUSED = "A check failed, so nothing was sent"


def passed(check: str) -> str:
    """What passing ``check`` means, in plain words."""
    words = _CHECKS.get(check, ("", ""))[0]
    return words or _PASSED


def refused(check: str) -> str:
    """What a refusal by ``check`` means, in plain words."""
    words = _CHECKS.get(check, ("", ""))[1]
    if words:
        return words
    return _FAMILIES.get(check.split(".", 1)[0], _REFUSED)


def failed(code: str) -> str:
    """What an error that names no check means, by its code, in plain words."""
    return _CODES.get(code, "Something went wrong; nothing more is shown on purpose")
