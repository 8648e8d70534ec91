"""Where consent lives: the store contract, shared by its implementations (a core).

One interface (:class:`ConsentStore`), two implementations in the adapter
:mod:`privproc.consent_service`: ``SqliteStore`` (the embedded default, one file under
``$PRIVPROC_HOME/consent/``) and ``PostgresStore`` (for scale). Both pass the same
contract suite (``tests/integration/test_consent_store_contract.py``).

Both keep events append-only twice over: the code only ever inserts events, and
the database itself refuses an UPDATE or DELETE of an event (a trigger), so even a
bug cannot rewrite history without dropping the trigger, which an audit of the
hash chain would then show. A change runs in one transaction that reads the
account's head event under a lock and inserts the next one, so concurrent changes
of one account serialize and the chain never forks.

Account credentials are stored as SHA-256 of a 32-byte random bearer secret:
the secret has 256 bits of entropy, so a fast hash is enough to make a leaked
table useless for logging in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Protocol

from privproc.consent.events import (
    ConsentEvent,
    ConsentState,
    ConsentStatus,
    check_account,
    check_region,
    format_time,
    new_event,
    parse_time,
)
from privproc.errors import DecodeError, MisuseError, StoreError

__all__ = [
    "EVENT_COLUMNS",
    "LOOKUP_CHUNK",
    "ConsentStore",
    "event_from_row",
    "event_row",
    "first_event",
    "status_from_row",
    "statuses_by_chunk",
]

#: Accounts per query in :meth:`ConsentStore.statuses`.
LOOKUP_CHUNK = 500


class ConsentStore(Protocol):
    """What the consent service and the export need from a store."""

    def register(
        self, account: str, region: str, secret_hash: bytes, now: datetime
    ) -> ConsentEvent:
        """Create an account (state unset); ConflictError if it exists."""
        ...

    def change(self, account: str, state: ConsentState, source: str, now: datetime) -> ConsentEvent:
        """Append the account's next event; NotFoundError if there is no such account."""
        ...

    def status(self, account: str) -> ConsentStatus | None:
        """The account's consent now, or None if the store does not know it."""
        ...

    def statuses(self, accounts: Sequence[str]) -> dict[str, ConsentStatus]:
        """The consent now of those of ``accounts`` the store knows."""
        ...

    def history(self, account: str) -> list[ConsentEvent]:
        """Every event of the account, oldest first (empty if unknown)."""
        ...

    def account_for(self, secret_hash: bytes) -> str | None:
        """The account whose credential hashes to ``secret_hash``, if any."""
        ...

    def accounts(self, after: str = "", limit: int = LOOKUP_CHUNK) -> list[str]:
        """Up to ``limit`` account ids greater than ``after``, in order (for audits)."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


#: Column order of the events table, shared by both implementations.
EVENT_COLUMNS = ("account", "seq", "time", "state", "source", "region", "prev", "hash")

_SQL_INSERT_EVENT = (
    "INSERT INTO events (account, seq, time, state, source, region, prev, hash)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
_SQL_HEAD = (
    "SELECT account, seq, time, state, source, region, prev, hash FROM events"
    " WHERE account = ? AND seq = (SELECT seq FROM accounts WHERE account = ?)"
)
_SQL_HISTORY = (
    "SELECT account, seq, time, state, source, region, prev, hash FROM events"
    " WHERE account = ? ORDER BY seq"
)
_SQL_STATUSES = (
    "SELECT account, region, state, seq, updated FROM accounts"
    " WHERE account IN (SELECT value FROM json_each(?))"
)


def event_from_row(row: Sequence[object]) -> ConsentEvent:
    """An event from a row in :data:`EVENT_COLUMNS` order; StoreError if corrupt."""
    try:
        account, seq, time, state, source, region, prev, digest = row
        if not isinstance(seq, int):
            raise StoreError("consent store: corrupt event row")
        return ConsentEvent(
            account=str(account),
            seq=seq,
            time=parse_time(time),
            state=ConsentState(str(state)),
            source=str(source),
            region=str(region),
            prev=str(prev),
            hash=str(digest),
        )
    except (ValueError, DecodeError, MisuseError):
        raise StoreError("consent store: corrupt event row") from None


def event_row(event: ConsentEvent) -> tuple[object, ...]:
    """An event as a row in :data:`EVENT_COLUMNS` order."""
    return (
        event.account,
        event.seq,
        format_time(event.time),
        event.state.value,
        event.source,
        event.region,
        event.prev,
        event.hash,
    )


def first_event(account: str, region: str, now: datetime) -> ConsentEvent:
    """The registration event of a new account."""
    check_account(account)
    check_region(region)
    return new_event(
        None, account=account, state=ConsentState.UNSET, source="register", region=region, now=now
    )


def status_from_row(row: Sequence[object]) -> ConsentStatus:
    """A status from (account, region, state, seq, updated); StoreError if corrupt."""
    try:
        account, region, state, seq, updated = row
        if not isinstance(seq, int):
            raise StoreError("consent store: corrupt account row")
        return ConsentStatus(
            str(account), str(region), ConsentState(str(state)), seq, parse_time(updated)
        )
    except (ValueError, DecodeError, MisuseError):
        raise StoreError("consent store: corrupt account row") from None


def statuses_by_chunk(
    accounts: Sequence[str], fetch: Callable[[list[str]], Iterable[Sequence[object]]]
) -> dict[str, ConsentStatus]:
    """:meth:`ConsentStore.statuses` over ``fetch`` (status rows of up to
    :data:`LOOKUP_CHUNK` distinct accounts per call)."""
    out: dict[str, ConsentStatus] = {}
    wanted = list(dict.fromkeys(accounts))
    for start in range(0, len(wanted), LOOKUP_CHUNK):
        for row in fetch(wanted[start : start + LOOKUP_CHUNK]):
            status = status_from_row(row)
            out[status.account] = status
    return out
