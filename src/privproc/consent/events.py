"""Consent state per account and its append-only, hash-chained event history.

Every change of an account's consent is an event: who (the account), what (the
new state, and the source of the change), when (UTC, microseconds) and its place
in the account's chain: ``seq`` counts from 0 and ``prev`` is the hash of the
event before (32 zero bytes for the first). An event's hash is

    SHA-256("privproc/consent/event/v1" || 0x00 || canonical JSON of its fields)

where canonical JSON has sorted keys, no insignificant whitespace and ASCII only
(all fields are strings and integers, so this is RFC 8785 JCS for them). An
auditor replays a history with :func:`verify_chain`: a changed, removed,
reordered or inserted event breaks a link and the check names where. A receipt
(:mod:`privproc.consent.receipt`) signs one event's hash, so a user can later
show which event the service acknowledged.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from privproc.canonical import canonical_json
from privproc.errors import DecodeError, MisuseError, VerificationError

__all__ = [
    "GENESIS",
    "SOURCES",
    "ConsentEvent",
    "ConsentState",
    "ConsentStatus",
    "check_account",
    "check_region",
    "format_time",
    "loads_strict",
    "new_event",
    "parse_time",
    "state_at",
    "verify_chain",
]

#: ``prev`` of an account's first event: 32 zero bytes, hex.
GENESIS = "00" * 32

_DOMAIN = b"privproc/consent/event/v1\x00"


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        # The key is not named: in content records even keys may be user content.
        raise DecodeError("duplicate key in a JSON object")
    return obj


def _no_constant(name: str) -> object:
    raise DecodeError(f"{name} is not JSON")


def loads_strict(data: bytes | str, what: str) -> object:
    """``json.loads`` that refuses duplicate keys (at any depth) and NaN/Infinity.

    A JSON object with a key twice is read differently by different parsers (first
    or last value wins), so a check made on one reading could be bypassed by another;
    it is malformed here. Raises only DecodeError, whose message names ``what``.
    """
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except DecodeError as exc:
        raise DecodeError(f"{what}: {exc}") from None
    except (ValueError, RecursionError):
        raise DecodeError(f"{what}: not JSON") from None


#: Where a change came from: registration, the user's own choice, a one-step
#: objection, or the operator acting on the user's documented request.
SOURCES = frozenset({"register", "user", "objection", "operator"})

_ACCOUNT = re.compile(r"[A-Za-z0-9._:@+-]{1,128}")
_REGION = re.compile(r"[A-Z]{2}")
_HEX32 = re.compile(r"[0-9a-f]{64}")


class ConsentState(StrEnum):
    """An account's data-use consent: never asked, granted, or refused."""

    UNSET = "unset"
    GRANTED = "granted"
    REFUSED = "refused"


def check_account(account: object) -> str:
    """Return ``account`` if it is a valid account id (1-128 of ``A-Za-z0-9._:@+-``)."""
    if not isinstance(account, str) or not _ACCOUNT.fullmatch(account):
        raise DecodeError("account: expected 1-128 characters of A-Za-z0-9._:@+-")
    return account


def check_region(region: object) -> str:
    """Return ``region`` if it is an ISO 3166-1 alpha-2 code (``ZZ`` for unknown)."""
    if not isinstance(region, str) or not _REGION.fullmatch(region):
        raise DecodeError("region: expected an ISO 3166-1 alpha-2 code such as DE or US")
    return region


def format_time(when: datetime) -> str:
    """RFC 3339 in UTC with microseconds and ``Z``: the one textual form of a time."""
    if when.tzinfo is None:
        raise MisuseError("time must be timezone-aware")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: object) -> datetime:
    """Parse an RFC 3339 time that names its offset; raise DecodeError otherwise."""
    if not isinstance(text, str) or len(text) > 40:
        raise DecodeError("time: expected an RFC 3339 string")
    try:
        when = datetime.fromisoformat(text)
        if when.tzinfo is None:
            raise DecodeError("time: must name its UTC offset")
        return when.astimezone(UTC)
    except (ValueError, OverflowError):
        raise DecodeError("time: not an RFC 3339 time in range") from None


@dataclass(frozen=True, slots=True)
class ConsentEvent:
    """One change of one account's consent, linked to the event before it.

    ``hash`` is stored, not recomputed here, so a tampered history still loads
    and :func:`verify_chain` can say what is wrong with it.
    """

    account: str
    seq: int
    time: datetime
    state: ConsentState
    source: str
    region: str
    prev: str
    hash: str

    def __post_init__(self) -> None:
        check_account(self.account)
        check_region(self.region)
        if self.seq < 0:
            raise MisuseError("seq must be >= 0")
        if self.time.tzinfo is None:
            raise MisuseError("time must be timezone-aware")
        if self.source not in SOURCES:
            raise MisuseError(f"unknown source {self.source!r}")
        if not _HEX32.fullmatch(self.prev) or not _HEX32.fullmatch(self.hash):
            raise MisuseError("prev and hash are 32-byte lowercase hex")

    def body(self) -> dict[str, object]:
        """The hashed fields, as JSON values."""
        return {
            "account": self.account,
            "prev": self.prev,
            "region": self.region,
            "seq": self.seq,
            "source": self.source,
            "state": self.state.value,
            "time": format_time(self.time),
        }

    def computed_hash(self) -> str:
        """The hash this event's fields give (compare with :attr:`hash`)."""
        return _hash(self.body())

    def to_json(self) -> dict[str, object]:
        """The event as a JSON object (its body plus its hash)."""
        return {**self.body(), "hash": self.hash}

    @classmethod
    def from_json(cls, obj: object) -> ConsentEvent:
        """Read an event from a JSON object; raise DecodeError if it is not one."""
        if not isinstance(obj, dict):
            raise DecodeError("event: expected an object")
        try:
            seq = obj["seq"]
            if not isinstance(seq, int) or isinstance(seq, bool):
                raise DecodeError("event: seq must be an integer")
            return cls(
                account=check_account(obj["account"]),
                seq=seq,
                time=parse_time(obj["time"]),
                state=ConsentState(obj["state"]),
                source=str(obj["source"]),
                region=check_region(obj["region"]),
                prev=str(obj["prev"]),
                hash=str(obj["hash"]),
            )
        except (KeyError, ValueError, MisuseError):
            raise DecodeError("event: missing or invalid field") from None


def _hash(body: dict[str, object]) -> str:
    return hashlib.sha256(_DOMAIN + canonical_json(body)).hexdigest()


def new_event(
    head: ConsentEvent | None,
    *,
    account: str,
    state: ConsentState,
    source: str,
    region: str,
    now: datetime,
) -> ConsentEvent:
    """The event that follows ``head`` (None: the account's first event).

    Its time is ``now``, or ``head``'s time if the clock went back, so times
    never decrease along a chain.
    """
    if head is not None and head.account != account:
        raise MisuseError("head belongs to another account")
    when = now.astimezone(UTC)
    if head is not None and when < head.time:
        when = head.time
    unhashed = ConsentEvent(
        account=account,
        seq=0 if head is None else head.seq + 1,
        time=when,
        state=state,
        source=source,
        region=region,
        prev=GENESIS if head is None else head.hash,
        hash=GENESIS,
    )
    return dataclasses.replace(unhashed, hash=unhashed.computed_hash())


def verify_chain(events: Sequence[ConsentEvent], *, account: str) -> ConsentEvent | None:
    """Audit one account's full history; return its head (None if empty) or raise.

    Checks, each named in the error: ``consent.chain.account`` (every event is the
    account's), ``consent.chain.seq`` (0, 1, 2, ... with no gap), ``consent.chain.prev``
    (each links to the hash of the one before), ``consent.chain.hash`` (each hash is
    what its fields give), ``consent.chain.time`` (times never decrease).
    """
    head: ConsentEvent | None = None
    for index, event in enumerate(events):
        if event.account != account:
            raise VerificationError(
                "consent.chain.account", "event of another account", expected=account
            )
        if event.seq != index:
            raise VerificationError(
                "consent.chain.seq",
                "events missing or out of order",
                expected=index,
                found=event.seq,
            )
        expected_prev = GENESIS if head is None else head.hash
        if event.prev != expected_prev:
            raise VerificationError(
                "consent.chain.prev",
                f"event {index} does not link to the event before",
                expected=expected_prev,
                found=event.prev,
            )
        computed = event.computed_hash()
        if event.hash != computed:
            raise VerificationError(
                "consent.chain.hash",
                f"event {index} was altered",
                expected=computed,
                found=event.hash,
            )
        if head is not None and event.time < head.time:
            raise VerificationError(
                "consent.chain.time", f"event {index} is older than the event before"
            )
        head = event
    return head


def state_at(events: Sequence[ConsentEvent], at: datetime) -> ConsentState:
    """The state in force at ``at``: the last event at or before it (UNSET if none)."""
    state = ConsentState.UNSET
    for event in events:
        if event.time > at:
            break
        state = event.state
    return state


@dataclass(frozen=True, slots=True)
class ConsentStatus:
    """An account's consent as it stands now: what the export and the service read."""

    account: str
    region: str
    state: ConsentState
    seq: int
    updated: datetime

    def __post_init__(self) -> None:
        check_account(self.account)
        check_region(self.region)

    @classmethod
    def of(cls, head: ConsentEvent) -> ConsentStatus:
        """The status a chain's head event gives."""
        return cls(head.account, head.region, head.state, head.seq, head.time)
