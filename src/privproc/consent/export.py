"""The training-data filter: stream content records, keep only the eligible ones.

No I/O here: lines come in, eligible lines go out, and the authors' consent is
read through an injected ``lookup`` (a consent store, or the consent service over
HTTP). Memory is bounded by ``batch`` lines at a time, whatever the input's size:
records are judged in batches, with one lookup per batch for the batch's distinct
authors, so the consent used is the state when the batch is judged (an objection
that lands during an export already applies to the batches after it).

A line that is not a valid record (including one with a duplicate JSON key), or
longer than ``max_line`` bytes, is counted under ``malformed`` and dropped; nothing
from any line ever reaches the report. An eligible record is written as the
canonical re-serialization of what was judged (:func:`canonical_record`: sorted
keys, compact, UTF-8), never as the input line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from privproc.consent.events import ConsentState, ConsentStatus
from privproc.consent.regions import RegionPolicy
from privproc.consent.rules import (
    MALFORMED,
    RULE_NAMES,
    ContentRecord,
    failed_rules,
    parse_record_line,
)
from privproc.errors import DecodeError, MisuseError

__all__ = ["DEFAULT_BATCH", "MAX_LINE", "ExportReport", "Exporter", "Lookup"]

#: Records judged per consent lookup.
DEFAULT_BATCH = 1000
#: The longest line accepted as a record, in bytes (newline excluded).
MAX_LINE = 1 << 20

#: Accounts -> the status of those the store knows (unknown accounts are left out).
Lookup = Callable[[Sequence[str]], Mapping[str, ConsentStatus]]


@dataclass(frozen=True, slots=True)
class ExportReport:
    """How many records were read, written, and excluded, by rule.

    ``excluded`` counts each excluded record once, under the first rule it fails
    (so ``written + sum(excluded.values()) == read``); ``failed`` counts every rule
    each record fails.
    """

    read: int
    written: int
    excluded: Mapping[str, int] = field(default_factory=dict)
    failed: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.written + sum(self.excluded.values()) != self.read:
            raise MisuseError("report does not add up")

    def as_dict(self) -> dict[str, object]:
        """The report as JSON values."""
        return {
            "read": self.read,
            "written": self.written,
            "excluded_total": self.read - self.written,
            "excluded": dict(self.excluded),
            "failed": dict(self.failed),
        }


class Exporter:
    """Filters one stream of records; :meth:`report` afterwards says what it did."""

    __slots__ = (
        "_batch",
        "_excluded",
        "_failed",
        "_lookup",
        "_max_line",
        "_policy",
        "_read",
        "_written",
    )

    def __init__(
        self,
        lookup: Lookup,
        policy: RegionPolicy | None = None,
        *,
        batch: int = DEFAULT_BATCH,
        max_line: int = MAX_LINE,
    ) -> None:
        if batch < 1 or max_line < 1:
            raise MisuseError("batch and max_line must be positive")
        self._lookup = lookup
        self._policy = policy or RegionPolicy()
        self._batch = batch
        self._max_line = max_line
        self._read = 0
        self._written = 0
        self._excluded = dict.fromkeys(RULE_NAMES, 0)
        self._failed = dict.fromkeys(RULE_NAMES, 0)

    def filter(self, lines: Iterable[bytes]) -> Iterator[bytes]:
        """Yield the eligible records of ``lines`` in order, each as its canonical JSON
        (not the input bytes) ending in a newline."""
        pending: list[tuple[ContentRecord, bytes]] = []
        for line in lines:
            parsed = self._parse(line)
            if parsed is None:
                continue
            pending.append(parsed)
            if len(pending) >= self._batch:
                yield from self._judge(pending)
                pending = []
        if pending:
            yield from self._judge(pending)

    def report(self) -> ExportReport:
        """What the filter did so far (records waiting in a batch are not counted yet)."""
        return ExportReport(
            read=self._read,
            written=self._written,
            excluded=MappingProxyType(dict(self._excluded)),
            failed=MappingProxyType(dict(self._failed)),
        )

    def _parse(self, line: bytes) -> tuple[ContentRecord, bytes] | None:
        body = line.rstrip(b"\r\n")
        if len(body) <= self._max_line:
            try:
                return parse_record_line(body)
            except DecodeError:
                pass
        self._read += 1
        self._excluded[MALFORMED] += 1
        self._failed[MALFORMED] += 1
        return None

    def _judge(self, pending: list[tuple[ContentRecord, bytes]]) -> Iterator[bytes]:
        accounts = sorted({record.account for record, _ in pending})
        statuses = self._lookup(accounts)
        for record, canonical in pending:
            self._read += 1
            status = statuses.get(record.account)
            if status is None:
                consent = ConsentState.REFUSED  # an account the store does not know
            else:
                consent = self._policy.effective(status.state, status.region)
            failed = failed_rules(record, consent)
            if failed:
                self._excluded[failed[0]] += 1
                for name in failed:
                    self._failed[name] += 1
                continue
            self._written += 1
            yield canonical + b"\n"
