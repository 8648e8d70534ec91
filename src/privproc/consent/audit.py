"""Audit a whole consent store: every account's hash chain, and its status against it.

For each account (in id order, a page at a time, so memory stays bounded) the
audit replays the history with :func:`.events.verify_chain` and checks that the
status the export reads (state, sequence number, region) is the one the chain's
head gives (``consent.audit.status``): an export can never use a state that the
history does not show. It returns what it checked or raises the first failure.
"""

from __future__ import annotations

from dataclasses import dataclass

from privproc.consent.events import ConsentStatus, verify_chain
from privproc.consent.store import LOOKUP_CHUNK, ConsentStore
from privproc.errors import VerificationError

__all__ = ["AuditReport", "audit_store"]


@dataclass(frozen=True, slots=True)
class AuditReport:
    """How much was checked."""

    accounts: int
    events: int


def audit_store(store: ConsentStore, *, page: int = LOOKUP_CHUNK) -> AuditReport:
    """Check every account of ``store``; return the counts or raise VerificationError."""
    accounts = events = 0
    after = ""
    while batch := store.accounts(after, page):
        statuses = store.statuses(batch)
        for account in batch:
            history = store.history(account)
            head = verify_chain(history, account=account)
            status = statuses.get(account)
            if head is None or status is None:
                raise VerificationError("consent.audit.status", f"account {account} has no history")
            expected = ConsentStatus.of(head)
            found = (status.state, status.seq, status.region)
            if (expected.state, expected.seq, expected.region) != found:
                raise VerificationError(
                    "consent.audit.status",
                    f"account {account}: status differs from its history",
                    expected=f"{expected.state.value}@{expected.seq}/{expected.region}",
                    found=f"{status.state.value}@{status.seq}/{status.region}",
                )
            accounts += 1
            events += len(history)
        after = batch[-1]
    return AuditReport(accounts, events)
