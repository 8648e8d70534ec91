"""Plain-text helpers the features share: sentences, quoted replies, facts, cues.

The cues (time and date words, corrections, decisions, questions to the reader,
chit-chat) come from every language's data file (:mod:`privproc.workloads.cues`),
combined: these helpers are language-neutral, the summarizer uses one language's cues
where the language matters. Nothing here logs or keeps text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from privproc.workloads.cues import all_cues, union

__all__ = [
    "Facts",
    "correction_cue_removed",
    "facts",
    "is_chitchat",
    "is_correction",
    "is_decision",
    "is_question_to_reader",
    "names_and_numbers",
    "split_sentences",
    "strip_quoted",
    "words",
]

_WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,:h]\d+)*")
_CAPITALISED = re.compile(r"\b[A-ZÀ-ÖØ-Þ][\w'\u2019-]*", re.UNICODE)


def _all(kind: str) -> str:
    return "|".join(f"(?:{c.sources[kind]})" for c in all_cues().values())


_WEEKDAYS = _all("weekdays")
_MONTHS = _all("months")
_RELATIVE_DAYS = _all("relative_days")
#: A sentence ends at . ! ? … and a space, or a line break; not at an ordinal day's dot
#: before its month ("Freitag, der 27. Juni").
_SENTENCE_END = re.compile(
    rf"(?<=[.!?…])(?!(?<=\d\.)\s+(?i:{_MONTHS})(?![\w'\u2019]))\s+(?=\S)|\n+"
)
#: Times: language-neutral "18:30", then each language's forms ("7 pm", "18h", "um 7 Uhr").
_TIME = re.compile(
    rf"\b\d{{1,2}}:\d{{2}}\b|{union('time_patterns')}|\b(?:{_all('time_words')})\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    rf"{union('date_patterns')}|\b(?:{_WEEKDAYS})\b|\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b|"
    rf"\b(?:{_RELATIVE_DAYS})\b",
    re.IGNORECASE,
)
_UPPER = "A-ZÀ-ÖØ-Þ"
_PLACE = re.compile(
    rf"\b(?:{_all('place_prepositions')})\s+(?:(?:{_all('place_articles')})(?:\s+|(?<=['\u2019])))?"
    rf"((?:[{_UPPER}][\w'\u2019-]*)(?:\s+(?:[{_UPPER}][\w'\u2019-]*|{_all('place_joiners')}))*"
    rf"(?:\s+[{_UPPER}][\w'\u2019-]*)?)"
)

_CORRECTION = re.compile(union("corrections"), re.IGNORECASE)
_DECISION = re.compile(union("decisions"), re.IGNORECASE)
_READER = re.compile(union("reader_words"), re.IGNORECASE)
_CHITCHAT = frozenset(w for c in all_cues().values() for w in c.chitchat)


@dataclass(frozen=True, slots=True, repr=False)
class Facts:
    """The checkable facts in a piece of text, each as the exact words used.

    ``repr()`` shows how many of each kind, never the words.
    """

    times: tuple[str, ...]
    dates: tuple[str, ...]
    places: tuple[str, ...]
    numbers: tuple[str, ...]

    def __repr__(self) -> str:
        return (
            f"Facts(times=<{len(self.times)}>, dates=<{len(self.dates)}>, "
            f"places=<{len(self.places)}>, numbers=<{len(self.numbers)}>)"
        )

    @property
    def count(self) -> int:
        """How many facts in all."""
        return len(self.times) + len(self.dates) + len(self.places) + len(self.numbers)

    def kinds(self) -> frozenset[str]:
        """Which kinds of fact are present."""
        out = set()
        for kind in ("times", "dates", "places", "numbers"):
            if getattr(self, kind):
                out.add(kind)
        return frozenset(out)


def split_sentences(text: str) -> list[str]:
    """Sentences and lines of ``text``, stripped, empties dropped."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def strip_quoted(text: str) -> str:
    """Drop quoted-reply lines (``> ...``): they repeat an earlier message."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith(">"))


def words(text: str) -> list[str]:
    """Word tokens (letters and digits, inner apostrophes and hyphens kept)."""
    return _WORD.findall(text)


def facts(text: str) -> Facts:
    """Times, dates, places and other numbers mentioned in ``text``."""
    times = tuple(m.group(0) for m in _TIME.finditer(text))
    dates = tuple(m.group(0) for m in _DATE.finditer(text))
    places = tuple(m.group(1) for m in _PLACE.finditer(text))
    covered = " ".join(times + dates)
    numbers = tuple(n for n in _NUMBER.findall(text) if n not in covered)
    return Facts(times, dates, places, numbers)


def names_and_numbers(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Capitalised words that do not start a sentence (names), and digit runs.

    Used to check that an output states no name or number its input lacks.
    """
    names: set[str] = set()
    for sentence in split_sentences(text):
        for match in _CAPITALISED.finditer(sentence):
            before = sentence[: match.start()].strip()
            if before and before[-1] not in ":-•*\"'«(“":
                names.add(match.group(0).lower())
    numbers = frozenset(re.findall(r"\d+", text))
    return frozenset(names), numbers


def is_correction(sentence: str) -> bool:
    """Does the sentence correct something said just before ("no wait, Thursday")?"""
    return bool(_CORRECTION.search(sentence))


def correction_cue_removed(sentence: str) -> str:
    """The sentence without its correction cues ("no wait", "en fait", ...)."""
    return _CORRECTION.sub(" ", sentence)


def is_decision(sentence: str) -> bool:
    """Does the sentence state a decision, plan or obligation?"""
    return bool(_DECISION.search(sentence))


def is_question_to_reader(sentence: str) -> bool:
    """A question the reader may need to answer (addressed to "you", "anyone", ...)."""
    return "?" in sentence and bool(_READER.search(sentence))


def is_chitchat(sentence: str) -> bool:
    """Acknowledgements and reactions with no content ("ok", "lol", "merci !", emoji)."""
    tokens = [w.lower() for w in words(sentence)]
    if not tokens:
        return True  # emoji or punctuation only
    return all(t in _CHITCHAT for t in tokens) and len(tokens) <= 4
