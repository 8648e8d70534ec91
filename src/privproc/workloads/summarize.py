"""Summaries of a chat's unread messages.

Two methods, chosen by what the backend can do:

* **extractive** (every backend, the embedded default): the unread messages are
  cut into sentences (quoted-reply lines dropped); corrections such as "no wait,
  Thursday" replace the fact they correct, so the superseded one is not reported;
  each sentence is scored by its centrality (cosine to the centroid of all
  sentences' embeddings) plus what it carries (dates, times, places, numbers,
  decisions); questions addressed to the reader and corrections are always kept;
  the rest is chosen by maximal marginal relevance (Carbonell and Goldstein 1998)
  so near-duplicates are not repeated. Sentences are quoted verbatim and
  attributed to their sender, so dates, times, places and numbers are exactly
  those of the chat and no fact is invented. Long chats are summarized in parts
  of 40 messages, then the parts' picks are chosen from together.
* **abstractive** (a backend that can ``generate``): the model writes the summary,
  part by part then together; its output is refused, and the extractive summary
  returned instead, when it names a person or a number the chat does not contain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from privproc.errors import PolicyError
from privproc.workloads.backend import Backend, Generator
from privproc.workloads.chat import Chat
from privproc.workloads.text import (
    facts,
    is_chitchat,
    is_correction,
    is_decision,
    is_question_to_reader,
    names_and_numbers,
    split_sentences,
    strip_quoted,
    words,
)

__all__ = ["Point", "Summary", "summarize_unread"]

#: Unread messages summarized together before the parts are combined.
PART_MESSAGES = 40
#: Most sentences a summary quotes, and the most one part contributes.
MAX_POINTS = 12
PART_POINTS = 6
_MMR_LAMBDA = 0.5
_DUPLICATE = 0.85
#: Below this marginal relevance a sentence adds too little to be worth reading.
_MIN_GAIN = 0.15
_LOOKBACK = 8

_EMPTY = {"en": "No unread messages.", "fr": "Aucun message non lu."}
_CORRECTED_BY = {"en": "corrected by", "fr": "corrigé par"}
_LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "de": "German"}


@dataclass(frozen=True, slots=True)
class Point:
    """One statement of the summary, attributed to its sender.

    ``message`` is the index in ``chat.messages`` of the message it comes from;
    ``kind`` is ``"question"``, ``"correction"``, ``"decision"``, ``"fact"`` or ``"context"``.
    """

    sender: str
    text: str
    message: int
    kind: str


@dataclass(frozen=True, slots=True)
class Summary:
    """A summary of a chat's unread messages, in the chat's language."""

    text: str
    points: tuple[Point, ...]
    language: str
    unread: int
    method: str


@dataclass(slots=True)
class _Unit:
    message: int
    sender: str
    text: str
    kind: str = "context"
    forced: bool = False
    score: float = 0.0


def summarize_unread(chat: Chat, *, backend: Backend) -> Summary:
    """Summarize ``chat``'s unread messages (1 to 1000) with ``backend``.

    Raises PolicyError when the chat has Advanced Chat Privacy on (``ai_blocked``).
    """
    if chat.ai_blocked:
        raise PolicyError("workloads.ai_blocked", "the chat has Advanced Chat Privacy on")
    language = chat.base_language
    unread = chat.unread
    if not unread:
        return Summary(_EMPTY.get(language, _EMPTY["en"]), (), chat.language, 0, "empty")
    extractive = _extractive(chat, backend)
    if isinstance(backend, Generator):
        abstractive = _abstractive(chat, backend)
        if abstractive is not None:
            return Summary(
                abstractive, extractive.points, chat.language, len(unread), "abstractive"
            )
        return Summary(
            extractive.text,
            extractive.points,
            chat.language,
            len(unread),
            "extractive (abstractive refused: unsupported name or number)",
        )
    return extractive


# -- extractive ---------------------------------------------------------------------------------


def _units(chat: Chat) -> list[_Unit]:
    out = []
    for index, message in enumerate(chat.messages):
        if not message.unread:
            continue
        for sentence in split_sentences(strip_quoted(message.text)):
            if not is_chitchat(sentence):
                out.append(_Unit(index, message.sender, sentence))
    return out


def _resolve_corrections(units: list[_Unit], language: str) -> list[_Unit]:
    """Replace each corrected fact by its correction; drop the superseded sentence."""
    dropped: set[int] = set()
    for j, unit in enumerate(units):
        if not is_correction(unit.text):
            continue
        new = facts(unit.text)
        if not new.count:
            continue
        for i in range(j - 1, max(-1, j - 1 - _LOOKBACK), -1):
            if i in dropped:
                continue
            old = facts(units[i].text)
            shared = [
                k for k in ("dates", "times", "places", "numbers") if k in old.kinds() & new.kinds()
            ]
            if not shared:
                continue
            kind = shared[0]
            old_values, new_values = getattr(old, kind), getattr(new, kind)
            dropped.add(i)
            unit.kind, unit.forced = "correction", True
            fresh = [v for v in new_values if v.lower() not in units[i].text.lower()]
            if len(old_values) == 1 and len(fresh) == 1:
                merged = units[i].text.replace(old_values[0], fresh[0], 1)
                sender = units[i].sender
                if sender != unit.sender:
                    corrected = _CORRECTED_BY.get(language, _CORRECTED_BY["en"])
                    sender = f"{sender} ({corrected} {unit.sender})"
                unit.text, unit.sender, unit.message = merged, sender, units[i].message
            break
    return [u for i, u in enumerate(units) if i not in dropped]


def _score(units: list[_Unit], vectors: npt.NDArray[np.float32]) -> None:
    centroid = vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
    centrality = vectors @ centroid
    for unit, central in zip(units, centrality, strict=True):
        found = facts(unit.text)
        score = float(central)
        if is_chitchat(unit.text):
            score -= 1.0
        elif len(words(unit.text)) < 3:
            score -= 0.2
        if found.count:
            score += 0.25
            if unit.kind == "context":
                unit.kind = "fact"
        if is_decision(unit.text):
            score += 0.3
            if unit.kind in ("context", "fact"):
                unit.kind = "decision"
        if is_question_to_reader(unit.text) and not is_chitchat(unit.text):
            score += 0.4
            unit.kind, unit.forced = "question", True
        if unit.kind == "correction":
            score += 0.5
        unit.score = score


def _mmr(
    candidates: list[int], vectors: npt.NDArray[np.float32], units: list[_Unit], budget: int
) -> list[int]:
    """Pick up to ``budget`` of ``candidates``: forced ones first, then by MMR."""
    chosen: list[int] = []

    def redundancy(i: int) -> float:
        return max((float(vectors[i] @ vectors[j]) for j in chosen), default=0.0)

    forced = sorted((i for i in candidates if units[i].forced), key=lambda i: -units[i].score)
    for i in forced:
        if len(chosen) >= budget + 4:  # questions and corrections may exceed the budget a little
            break
        if redundancy(i) < _DUPLICATE:
            chosen.append(i)
    rest = [i for i in candidates if i not in chosen and units[i].score > -0.5]

    def gain(i: int) -> float:
        return _MMR_LAMBDA * units[i].score - (1 - _MMR_LAMBDA) * redundancy(i)

    while rest and len(chosen) < budget:
        best = max(rest, key=gain)
        if chosen and gain(best) < _MIN_GAIN:
            break
        rest.remove(best)
        if redundancy(best) < _DUPLICATE:
            chosen.append(best)
    return chosen


def _budget(n: int, cap: int) -> int:
    return max(1, min(n, 3 + math.ceil(math.sqrt(n)), cap))


def _extractive(chat: Chat, backend: Backend) -> Summary:
    language = chat.base_language
    units = _resolve_corrections(_units(chat), language)
    unread = len(chat.unread)
    if not units:  # only quoted lines or empty texts
        return Summary(_EMPTY.get(language, _EMPTY["en"]), (), chat.language, unread, "empty")
    vectors = backend.embed([u.text for u in units])
    _score(units, vectors)
    unread_order = [i for i, m in enumerate(chat.messages) if m.unread]
    part_of = {index: position // PART_MESSAGES for position, index in enumerate(unread_order)}
    parts: dict[int, list[int]] = {}
    for i, unit in enumerate(units):
        parts.setdefault(part_of[unit.message], []).append(i)
    if len(parts) == 1:
        content = sum(1 for u in units if u.score > -0.5)
        chosen = _mmr(list(range(len(units))), vectors, units, _budget(content, MAX_POINTS))
    else:
        picks: list[int] = []
        for members in parts.values():
            content = sum(1 for i in members if units[i].score > -0.5)
            picks += _mmr(members, vectors, units, _budget(content, PART_POINTS))
        chosen = _mmr(picks, vectors, units, MAX_POINTS)
    points = tuple(
        Point(units[i].sender, units[i].text, units[i].message, units[i].kind)
        for i in sorted(chosen)
    )
    return Summary(_render(points), points, chat.language, unread, f"extractive ({backend.name})")


def _render(points: Sequence[Point]) -> str:
    """One line per run of consecutive points from the same sender: ``Sender: text``."""
    lines: list[tuple[str, list[str]]] = []
    for point in points:
        if lines and lines[-1][0] == point.sender:
            lines[-1][1].append(point.text)
        else:
            lines.append((point.sender, [point.text]))
    return "\n".join(f"{sender}: {' '.join(texts)}" for sender, texts in lines)


# -- abstractive --------------------------------------------------------------------------------


def _prompt(lines: Sequence[str], language: str) -> tuple[str, str]:
    name = _LANGUAGE_NAMES.get(language, language)
    system = (
        "You summarize chat messages for the reader. Write in "
        f"{name}. Use at most 5 short bullet points. Say who said what, by name. Keep "
        "decisions, dates, times, places, numbers and questions addressed to the reader. "
        "When someone corrects an earlier statement, report only the corrected fact. "
        "Never add a fact, name or number that is not in the messages."
    )
    return system, "Messages:\n" + "\n".join(lines)


def _supported(output: str, source: str) -> bool:
    names, numbers = names_and_numbers(output)
    source_words = {w.lower() for w in words(source)}
    _, source_numbers = names_and_numbers(source)
    return names <= source_words and numbers <= source_numbers


def _abstractive(chat: Chat, backend: Generator) -> str | None:
    language = chat.base_language
    lines = [f"{m.sender}: {' '.join(split_sentences(strip_quoted(m.text)))}" for m in chat.unread]
    lines = [line for line in lines if line.split(":", 1)[1].strip()]
    if not lines:
        return None
    source = chat.chat + "\n" + "\n".join(lines)
    parts = [lines[i : i + PART_MESSAGES] for i in range(0, len(lines), PART_MESSAGES)]
    summaries = []
    for part in parts:
        system, prompt = _prompt(part, language)
        summaries.append(backend.generate(prompt, system=system, max_tokens=300).strip())
    if len(summaries) > 1:
        system, _ = _prompt([], language)
        joined = "Partial summaries, in order:\n" + "\n".join(summaries)
        text = backend.generate(joined, system=system, max_tokens=300).strip()
    else:
        text = summaries[0]
    if not text or not _supported(text, source):
        return None
    return text
