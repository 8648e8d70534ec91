"""The training-data eligibility rules: one table, stable names.

A content record is eligible for training only if every rule in :data:`RULES`
holds. Each rule has a stable name that export reports count under; a line that
is not a valid content record counts under :data:`MALFORMED`. The rules, in the
order a record is judged (a record excluded by several is reported under the
first, and under each in the ``failed`` counts):

=====================  ===============================================================
``public_kind``        the record is a public post, a comment or a profile (never a
                       private message, never an AI request)
``never_private``      it was never part of a private chat or of a Private Processing
                       request (its ``private_chat`` and ``private_processing`` flags
                       are false, and its kind is neither of those)
``adult_at_creation``  its author's age, or age band, when it was created is known and
                       adult (18 or over); unknown or conflicting age is not eligible
``consent_granted``    its author's consent at export time is granted, or unset in a
                       region whose default is granted (see :mod:`.regions`); an
                       account the consent store does not know is not eligible
=====================  ===============================================================

A content record is one JSON object per line::

    {"account": "u1", "kind": "public_post", "created": "2026-05-01T10:00:00Z",
     "author_age": 34, "author_age_band": "18_plus",
     "private_chat": false, "private_processing": false, ...}

``kind`` is one of :class:`ContentKind`; at least one of ``author_age`` (whole years
at creation) and ``author_age_band`` (:data:`AGE_BANDS`) should be present, else the
record is not eligible; the flags default to false; other fields (the content, an
id) are carried through untouched and never read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from privproc.consent.events import ConsentState, check_account, loads_strict, parse_time
from privproc.errors import DecodeError

__all__ = [
    "ADULT_AGE",
    "AGE_BANDS",
    "MALFORMED",
    "PUBLIC_KINDS",
    "RULES",
    "RULE_NAMES",
    "ContentKind",
    "ContentRecord",
    "Rule",
    "canonical_record",
    "failed_rules",
    "parse_record",
    "parse_record_line",
]

#: The age from which an author counts as an adult.
ADULT_AGE = 18

#: Age bands a record may carry instead of (or besides) an age; only ``18_plus`` is adult.
AGE_BANDS = frozenset({"under_13", "13_15", "16_17", "13_17", "18_plus"})
_ADULT_BAND = "18_plus"

#: The name bad lines are counted under.
MALFORMED = "malformed"


class ContentKind(StrEnum):
    """What a content record is."""

    PUBLIC_POST = "public_post"
    COMMENT = "comment"
    PROFILE = "profile"
    PRIVATE_MESSAGE = "private_message"
    AI_REQUEST = "ai_request"


_KINDS = {kind.value: kind for kind in ContentKind}

#: The kinds that are public.
PUBLIC_KINDS = frozenset({ContentKind.PUBLIC_POST, ContentKind.COMMENT, ContentKind.PROFILE})
_PRIVATE_KINDS = frozenset({ContentKind.PRIVATE_MESSAGE, ContentKind.AI_REQUEST})


@dataclass(frozen=True, slots=True)
class ContentRecord:
    """The fields of a content record that the rules read (never its content)."""

    account: str
    kind: ContentKind
    created: datetime
    author_age: int | None = None
    author_age_band: str | None = None
    private_chat: bool = False
    private_processing: bool = False

    def __post_init__(self) -> None:
        check_account(self.account)
        if self.created.tzinfo is None:
            raise DecodeError("created: must name its UTC offset")
        if self.author_age is not None and not 0 <= self.author_age <= 150:
            raise DecodeError("author_age: expected whole years, 0 to 150")
        if self.author_age_band is not None and self.author_age_band not in AGE_BANDS:
            raise DecodeError("author_age_band: unknown band")


def _optional_bool(obj: dict[str, object], key: str) -> bool:
    value = obj.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise DecodeError(f"{key}: expected true or false")
    return value


def canonical_record(obj: dict[str, object]) -> bytes:
    """The canonical JSON of a parsed record: sorted keys, no spaces, UTF-8, no newline.

    This, not the input line, is what an export writes: exactly what was judged.
    Raises DecodeError for a string that cannot be UTF-8 (a lone surrogate escape).
    """
    try:
        text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return text.encode("utf-8")
    except (ValueError, UnicodeEncodeError, RecursionError):
        raise DecodeError("record: does not re-serialize as UTF-8 JSON") from None


def parse_record_line(line: bytes) -> tuple[ContentRecord, bytes]:
    """Parse one JSON line; return the record and :func:`canonical_record` of it.

    Raises only DecodeError, also for a duplicate key at any depth (``{"kind":
    "private_message", ..., "kind": "public_post"}`` is malformed, never judged on one
    of its values). Error messages name the field, never its value: lines hold user
    content.
    """
    obj = loads_strict(line, "record")
    if not isinstance(obj, dict):
        raise DecodeError("record: expected a JSON object")
    raw_kind = obj.get("kind")
    kind = _KINDS.get(raw_kind) if isinstance(raw_kind, str) else None
    if kind is None:
        raise DecodeError("kind: unknown")
    age = obj.get("author_age")
    if age is not None and (not isinstance(age, int) or isinstance(age, bool)):
        raise DecodeError("author_age: expected an integer")
    band = obj.get("author_age_band")
    if band is not None and not isinstance(band, str):
        raise DecodeError("author_age_band: expected a string")
    record = ContentRecord(
        account=obj.get("account"),  # type: ignore[arg-type]  # checked on construction
        kind=kind,
        created=parse_time(obj.get("created")),
        author_age=age,
        author_age_band=band,
        private_chat=_optional_bool(obj, "private_chat"),
        private_processing=_optional_bool(obj, "private_processing"),
    )
    return record, canonical_record(obj)


def parse_record(line: bytes) -> ContentRecord:
    """Parse one JSON line into a :class:`ContentRecord` (see :func:`parse_record_line`)."""
    return parse_record_line(line)[0]


@dataclass(frozen=True, slots=True)
class Rule:
    """One eligibility rule: a stable name, what it means, and its check."""

    name: str
    meaning: str
    #: (record, the author's effective consent at export time) -> the rule holds.
    holds: Callable[[ContentRecord, ConsentState], bool]


def _public_kind(record: ContentRecord, _consent: ConsentState) -> bool:
    return record.kind in PUBLIC_KINDS


def _never_private(record: ContentRecord, _consent: ConsentState) -> bool:
    return not (record.private_chat or record.private_processing or record.kind in _PRIVATE_KINDS)


def _adult_at_creation(record: ContentRecord, _consent: ConsentState) -> bool:
    age, band = record.author_age, record.author_age_band
    if age is None and band is None:
        return False
    age_ok = age is None or age >= ADULT_AGE
    band_ok = band is None or band == _ADULT_BAND
    return age_ok and band_ok


def _consent_granted(_record: ContentRecord, consent: ConsentState) -> bool:
    return consent is ConsentState.GRANTED


#: The eligibility rules, in the order a record is judged.
RULES: tuple[Rule, ...] = (
    Rule("public_kind", "a public post, a comment or a profile", _public_kind),
    Rule(
        "never_private",
        "never part of a private chat or a Private Processing request",
        _never_private,
    ),
    Rule(
        "adult_at_creation",
        "the author was known to be 18 or over when it was created",
        _adult_at_creation,
    ),
    Rule("consent_granted", "the author's consent at export time is granted", _consent_granted),
)

#: Every name an export report counts under.
RULE_NAMES: tuple[str, ...] = (MALFORMED, *(rule.name for rule in RULES))


def failed_rules(record: ContentRecord, consent: ConsentState) -> tuple[str, ...]:
    """The names of the rules ``record`` fails, in table order (empty: eligible).

    ``consent`` is the author's *effective* consent at export time (granted or
    refused, see :meth:`RegionPolicy.effective`); UNSET counts as not granted.
    """
    return tuple(rule.name for rule in RULES if not rule.holds(record, consent))
