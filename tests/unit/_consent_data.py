"""Shared builders for the consent tests."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from privproc.consent.events import (
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    new_event,
    state_at,
)
from privproc.consent.export import Lookup

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def history(
    account: str, region: str, changes: Sequence[tuple[int, ConsentState]]
) -> list[ConsentEvent]:
    """A chain: registration at T0, then each (seconds after T0, state) change."""
    head = new_event(
        None, account=account, state=ConsentState.UNSET, source="register", region=region, now=T0
    )
    events = [head]
    for seconds, state in changes:
        head = new_event(
            head,
            account=account,
            state=state,
            source="user",
            region=region,
            now=T0 + timedelta(seconds=seconds),
        )
        events.append(head)
    return events


def lookup_at(histories: Mapping[str, list[ConsentEvent]], at: datetime) -> Lookup:
    """A lookup that answers with each account's state at ``at``."""

    def lookup(accounts: Sequence[str]) -> dict[str, ConsentStatus]:
        out = {}
        for account in accounts:
            events = histories.get(account)
            if events:
                last = events[-1]
                out[account] = ConsentStatus(
                    account, last.region, state_at(events, at), last.seq, last.time
                )
        return out

    return lookup


def line(**fields: object) -> bytes:
    """A record line in the export's canonical form (what it writes back)."""
    text = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode() + b"\n"
