"""What the page shows, as JSON values: the verification panel, the requests, an error.

Pure functions over what the device already holds (:class:`VerifiedDirectory`, the report
lines of :mod:`privproc.client.report`, a :class:`PrivprocError`): no I/O. Plain words come
first (:mod:`.plain`); the check names and the hex go under ``detail`` / ``hex`` keys, which
the page puts behind a "details" toggle. Nothing here carries message content.
"""

from __future__ import annotations

from typing import Any

from privproc.client.verify import Step, VerifiedDirectory
from privproc.errors import PrivprocError, VerificationError
from privproc.webapp import plain

__all__ = ["error_view", "requests_view", "verification_view"]

#: Trail subjects that are not nodes (DESIGN.md step 3: the device's own trust store, the
#: ledger, the gateway's key config, the bundle as a whole).
_PARTIES = {
    "device": "This device",
    "ledger": "Public ledger",
    "gateway": "Gateway key",
    "bundle": "Node list",
}


def _step(step: Step) -> dict[str, Any]:
    words = plain.passed(step.check) if step.ok else plain.refused(step.check)
    return {"check": step.check, "ok": step.ok, "words": words, "detail": step.detail}


def verification_view(verified: VerifiedDirectory, reports: list[dict[str, Any]]) -> dict[str, Any]:
    """The Verification panel: checkpoint, releases, each node's checks, the last request."""
    cp = verified.checkpoint
    parties: dict[str, list[dict[str, Any]]] = {}
    nodes: dict[str, list[dict[str, Any]]] = {}
    for step in verified.trail:
        into = parties if step.subject in _PARTIES else nodes
        into.setdefault(step.subject, []).append(_step(step))
    releases: dict[int, dict[str, Any]] = {}
    for node in verified.nodes:
        releases.setdefault(
            node.release_index,
            {
                "version": node.release_version,
                "ledger_index": node.release_index,
                "measurement": node.measurement.hex(),
                # All zeros: the release names no model file (the embedded model).
                "model_digest": None if node.model_digest == bytes(32) else node.model_digest.hex(),
            },
        )
    last = reports[-1] if reports else None
    return {
        "checkpoint": {
            "origin": cp.origin,
            "size": cp.size,
            "root": cp.root_hash.hex(),
            "cosigners": list(verified.cosigners),
        },
        "releases": [releases[i] for i in sorted(releases)],
        "parties": [
            {"name": _PARTIES[subject], "subject": subject, "checks": checks}
            for subject, checks in parties.items()
        ],
        "nodes": [
            {"name": name, "ok": all(c["ok"] for c in checks), "checks": checks}
            for name, checks in nodes.items()
        ],
        "last_request": None
        if last is None
        else {
            "named": [str(n.get("node")) for n in last.get("named", [])],
            "answered_by": last.get("answered_by"),
            "time": last.get("time"),
        },
        "verified_at": verified.verified_at.isoformat(timespec="seconds"),
    }


def requests_view(reports: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Requests region: newest first; time, feature, bytes, nodes, release."""
    return [
        {
            "time": r.get("time"),
            "feature": r.get("feature"),
            "bytes": r.get("sealed_bytes"),
            "named": [str(n.get("node")) for n in r.get("named", [])],
            "answered_by": r.get("answered_by"),
            "release_index": r.get("release_index"),
            "measurement": r.get("measurement"),
        }
        for r in reversed(reports)
    ]


def error_view(exc: PrivprocError) -> dict[str, Any]:
    """An error as the page shows it: the named check in plain words, never a trace."""
    if isinstance(exc, VerificationError):
        return {"check": exc.check, "words": plain.refused(exc.check)}
    check = getattr(exc, "check", None)
    if isinstance(check, str):
        return {"check": check, "words": plain.refused(check)}
    return {"check": exc.code, "words": plain.failed(exc.code)}
