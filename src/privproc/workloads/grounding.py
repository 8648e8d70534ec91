"""Checks on generated text before it is shown: every sentence cites its messages.

A model's summary is shown only when each of its sentences passes, against the
messages **it cites** (not merely somewhere in the chat):

``uncited``
    the sentence names no message (``[2]``, ``[1, 3]`` or ``[2-4]`` after it), or a
    number that is not one of the messages the model was given;
``unsupported``
    a name (a capitalised word that does not open the sentence) or a number that the
    cited messages and their senders do not contain: *who* and *how many*;
``when-where``
    a time, date or place (:func:`privproc.workloads.text.facts`) whose words the cited
    messages do not contain;
``superseded``
    a value the chat corrected (``stale``: "no wait, Thursday" makes the earlier day
    stale) stated anyway;
``wrong-person``
    the sentence cites the message in which someone took a task (``takers``: the offer
    "I'll get him", given to its sender, never to the one who asked) but does not name
    the taker, or puts another participant directly before a task verb ("Mom will pick
    Leo up" when Dad said "I'll get him"); or it cites the request the task was taken
    from (``requests``) and puts another participant before a task verb ("Rita will
    review the billing PR" when Rita asked and Dev took it).

The task verbs are a short list per language (English and French today); for other
languages only the first half of ``wrong-person`` (the taker must be named) applies.
Pure functions: text in, a verdict out; nothing here logs or raises with content.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from privproc.workloads.text import facts, names_and_numbers, split_sentences, words

__all__ = [
    "CitedSentence",
    "Numbered",
    "SentenceChecker",
    "Verdict",
    "check_generated",
    "cited_sentences",
]

_CITATION = re.compile(r"\[\s*(\d{1,4}(?:\s*[-,\u2013]\s*\d{1,4})*)\s*\]")
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)])\s+")
_TASK_VERBS = {
    "en": r"will|'ll|is going to|takes|picks|gets|brings|drives|books|buys|handles|can",
    "fr": r"va|vas|prend|récupère|amène|apporte|s'occupe|ira|conduit|réserve|achète",
}
_MAX_RANGE = 50


@dataclass(frozen=True, slots=True)
class Numbered:
    """One message as the model was given it: ``[number] sender: text``.

    ``number`` counts from 1 in the prompt; ``message`` is the index in the chat.
    """

    number: int
    message: int
    sender: str
    text: str

    def __repr__(self) -> str:
        return f"Numbered(number={self.number}, message={self.message}, text=<{len(self.text)}>)"


@dataclass(frozen=True, slots=True)
class CitedSentence:
    """A generated sentence without its citation marks, and the numbers it cites."""

    text: str
    cited: tuple[int, ...]

    def __repr__(self) -> str:
        return f"CitedSentence(text=<{len(self.text)} chars>, cited={self.cited})"


@dataclass(frozen=True, slots=True)
class Verdict:
    """``refusal`` is None when every sentence passed, else the first check that failed
    (a name from the module docstring) and the sentence's position; ``sentences`` are the
    parsed sentences (their ``cited`` numbers map to chat messages through ``Numbered``)."""

    sentences: tuple[CitedSentence, ...]
    refusal: str | None = None
    position: int = -1

    @property
    def ok(self) -> bool:
        return self.refusal is None


def _numbers(spec: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*,\s*", spec):
        bounds = [int(b) for b in re.split(r"\s*[-\u2013]\s*", part) if b]
        if len(bounds) == 2 and 0 <= bounds[1] - bounds[0] <= _MAX_RANGE:
            out.extend(range(bounds[0], bounds[1] + 1))
        else:
            out.extend(bounds)
    return out


def cited_sentences(output: str) -> list[CitedSentence]:
    """The output's sentences (bullets and lines first, then sentence ends), each with the
    numbers cited in it; a citation that follows its sentence's full stop belongs to it."""
    found: list[CitedSentence] = []
    for raw in output.splitlines():
        line = _BULLET.sub("", raw).strip()
        if not line:
            continue
        # Move "text. [2]" citations before the stop so the splitter keeps them together.
        moved = re.sub(r"([.!?])\s*((?:\[[^\]]*\]\s*)+)", r" \2\1 ", line)
        for sentence in split_sentences(moved):
            cited = [n for m in _CITATION.finditer(sentence) for n in _numbers(m.group(1))]
            text = re.sub(r"\s+([.!?,;:])", r"\1", _CITATION.sub("", sentence))
            text = re.sub(r"\s{2,}", " ", text).strip()
            if text and any(ch.isalnum() for ch in text):
                found.append(CitedSentence(text, tuple(dict.fromkeys(cited))))
    return found


def _lower_words(text: str) -> set[str]:
    return {w.lower() for w in words(text)}


def _states(text: str, value: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE) is not None


def _first_named(text: str, people: Sequence[str]) -> str | None:
    best: tuple[int, str] | None = None
    for person in people:
        match = re.search(rf"(?<!\w){re.escape(person)}(?!\w)", text, re.IGNORECASE)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), person)
    return None if best is None else best[1]


def _wrong_person(text: str, taker: str, people: Sequence[str], language: str) -> bool:
    return _first_named(text, [taker]) is None or _other_on_task(text, taker, people, language)


def _other_on_task(text: str, taker: str, people: Sequence[str], language: str) -> bool:
    """Another participant stands directly before a task verb ("Rita will review ...")."""
    verbs = _TASK_VERBS.get(language)
    if verbs is None:
        return False
    for person in people:
        if person.lower() == taker.lower():
            continue
        if re.search(rf"(?<!\w){re.escape(person)}\s*(?:{verbs})(?!\w)", text, re.IGNORECASE):
            return True
    return False


def _check(
    sentence: CitedSentence,
    by_number: Mapping[int, Numbered],
    *,
    stale: frozenset[str],
    takers: Mapping[int, str],
    requests: Mapping[int, str],
    people: Sequence[str],
    language: str,
) -> str | None:
    if not sentence.cited or any(n not in by_number for n in sentence.cited):
        return "uncited"
    cited = [by_number[n] for n in sentence.cited]
    source = "\n".join(f"{m.sender}: {m.text}" for m in cited)
    known = _lower_words(source)
    found = facts(sentence.text)
    for value in (*found.times, *found.dates, *found.places):
        if not _lower_words(value) <= known:
            return "when-where"
    names, numbers = names_and_numbers(sentence.text)
    _, source_numbers = names_and_numbers(source)
    if not names <= known or not numbers <= source_numbers:
        return "unsupported"
    if any(_states(sentence.text, value) for value in stale):
        return "superseded"
    for m in cited:
        taker = takers.get(m.message)
        if taker is not None and _wrong_person(sentence.text, taker, people, language):
            return "wrong-person"
        taker = requests.get(m.message)  # the request may also hold a plan: name no one
        if taker is not None and _other_on_task(sentence.text, taker, people, language):
            return "wrong-person"
    return None


class SentenceChecker:
    """The checks of :func:`check_generated`, one sentence at a time, for text that is
    checked as it is written (a streamed summary shows each line once it passed).

    ``given``: the messages as numbered in the prompt; ``stale``: values the chat
    corrected; ``takers``: chat message index of a task's offer -> the sender who took it;
    ``requests``: that of the request it answered -> the same sender (a sentence citing it
    must not put another participant on the task; it need not name the taker, since the
    request's message may also hold a plan).
    """

    def __init__(
        self,
        given: Sequence[Numbered],
        *,
        stale: frozenset[str] = frozenset(),
        takers: Mapping[int, str] | None = None,
        requests: Mapping[int, str] | None = None,
        language: str = "en",
    ) -> None:
        self._by_number = {m.number: m for m in given}
        self._people = sorted({m.sender for m in given}, key=len, reverse=True)
        self._stale, self._takers, self._language = stale, dict(takers or {}), language
        self._requests = dict(requests or {})

    def check(self, sentence: CitedSentence) -> str | None:
        """None when ``sentence`` passes, else the name of the first check it fails."""
        return _check(
            sentence,
            self._by_number,
            stale=self._stale,
            takers=self._takers,
            requests=self._requests,
            people=self._people,
            language=self._language,
        )


def check_generated(
    output: str,
    given: Sequence[Numbered],
    *,
    stale: frozenset[str] = frozenset(),
    takers: Mapping[int, str] | None = None,
    requests: Mapping[int, str] | None = None,
    language: str = "en",
) -> Verdict:
    """Check every sentence of ``output`` against the messages it cites (module docstring;
    the arguments are :class:`SentenceChecker`'s)."""
    checker = SentenceChecker(
        given, stale=stale, takers=takers, requests=requests, language=language
    )
    sentences = tuple(cited_sentences(output))
    if not sentences:
        return Verdict(sentences, "uncited", 0)
    for position, sentence in enumerate(sentences):
        refusal = checker.check(sentence)
        if refusal is not None:
            return Verdict(sentences, refusal, position)
    return Verdict(sentences)
