"""Summaries of a chat's unread messages.

Two methods, chosen by what the backend can do:

* **extractive** (every backend, the embedded default): each unread message (quoted-reply
  lines dropped, long ones cut into sentences, chit-chat skipped) is a candidate.
  Corrections such as "no wait, Thursday" replace the fact they correct, so the
  superseded one is not reported. Candidates are scored by what they carry (dates, times,
  places, numbers, names, decisions, questions to the reader) and, second, by their
  centrality (cosine to the centroid of the candidates' embeddings); questions to the
  reader and corrections are always kept; the rest is chosen by maximal marginal
  relevance (Carbonell and Goldstein, SIGIR 1998) so near-duplicates are not repeated.
  Messages are quoted verbatim and attributed to their sender, so dates, times, places
  and numbers are exactly those of the chat and no fact is invented. Long chats are
  summarized in parts of 40 messages, then the parts' picks are chosen from together.
* **abstractive** (a backend that can ``generate``): the model writes the summary, part
  by part then together, from the unread messages numbered ``[1]``, ``[2]``...; its
  output is refused, and the extractive summary returned instead (``method`` says
  which sentence and check), when a sentence cites no message, or states a name,
  number, time, date or place its cited messages do not contain, or a fact the chat
  corrected, or gives a task to someone other than the sender who took it
  (:mod:`privproc.workloads.grounding`); or when a line opens with a sender who did
  not write, or a sentence's content words mostly do not come from the messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from privproc.errors import PolicyError
from privproc.workloads.backend import Backend, Generator
from privproc.workloads.chat import Chat
from privproc.workloads.grounding import Numbered, check_generated
from privproc.workloads.text import (
    Facts,
    correction_cue_removed,
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
_RELATED = 0.5
#: How far back (in units) a correction looks for what it corrects: the corrector's own
#: statements, then anyone's.
_LOOKBACK = 200
_LOOKBACK_OTHERS = 4
#: Messages longer than this (in words) are cut into sentences.
_LONG_MESSAGE_WORDS = 40
_MAX_SENTENCES = 16
#: A correction with at most this many words besides its cue and facts is folded into
#: the statement it corrects; a longer one must be about the same subject to replace it.
_BARE_CORRECTION_WORDS = 5
_BACK_POINTERS = frozenset(
    ["it", "it's", "that", "this", "c'est", "ce", "ça", "il", "elle", "they", "ils", "elles"]
)

#: Abstractive output checks: a sentence's content words must mostly come from the messages.
_STEM = 5
_GROUNDED = 0.6

_EMPTY = {"en": "No unread messages.", "fr": "Aucun message non lu."}
_CORRECTED_BY = {"en": "corrected by", "fr": "corrigé par"}
_LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "de": "German"}


@dataclass(frozen=True, slots=True, repr=False)
class Point:
    """One statement of the summary, attributed to its sender.

    ``repr()`` shows the sender's and the text's lengths, never their content.

    ``message`` is the index in ``chat.messages`` of the message it comes from;
    ``kind`` is ``"question"``, ``"correction"``, ``"decision"``, ``"fact"`` or ``"context"``.
    """

    sender: str
    text: str
    message: int
    kind: str

    def __repr__(self) -> str:
        return (
            f"Point(sender=<{len(self.sender)} chars>, text=<{len(self.text)} chars>, "
            f"message={self.message}, kind={self.kind!r})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class Summary:
    """A summary of a chat's unread messages, in the chat's language.

    ``repr()`` shows the text's length and the points' reprs, never content.
    """

    text: str
    points: tuple[Point, ...]
    language: str
    unread: int
    method: str

    def to_json(self) -> dict[str, Any]:
        """A JSON object; the summary text is under ``"summary"`` (DESIGN.md CLI output)."""
        return {
            "summary": self.text,
            "points": [
                {"sender": p.sender, "text": p.text, "message": p.message, "kind": p.kind}
                for p in self.points
            ],
            "language": self.language,
            "unread": self.unread,
            "method": self.method,
        }

    def __repr__(self) -> str:
        return (
            f"Summary(text=<{len(self.text)} chars>, points={self.points!r}, "
            f"language={self.language!r}, unread={self.unread}, method={self.method!r})"
        )


@dataclass(slots=True)
class _Unit:
    message: int
    sender: str = field(repr=False)
    text: str = field(repr=False)
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
    extractive, stale = _extractive(chat, backend)
    if isinstance(backend, Generator):
        abstractive, refusal = _abstractive(chat, backend, stale, extractive.points)
        if abstractive is not None:
            return Summary(
                abstractive, extractive.points, chat.language, len(unread), "abstractive"
            )
        return Summary(
            extractive.text,
            extractive.points,
            chat.language,
            len(unread),
            f"extractive (abstractive refused: {refusal})",
        )
    return extractive


# -- extractive ---------------------------------------------------------------------------------


def _units(chat: Chat) -> list[_Unit]:
    """One unit per unread message (quoted lines dropped); long messages by sentence."""
    out = []
    for index, message in enumerate(chat.messages):
        if not message.unread:
            continue
        body = " ".join(split_sentences(strip_quoted(message.text)))
        if len(words(body)) <= _LONG_MESSAGE_WORDS:
            pieces = [body] if body else []
        else:
            pieces = split_sentences(strip_quoted(message.text))
            if len(pieces) > _MAX_SENTENCES:  # bounds the work one message can cause
                pieces[_MAX_SENTENCES - 1 :] = [" ".join(pieces[_MAX_SENTENCES - 1 :])]
        out += [_Unit(index, message.sender, p) for p in pieces if not is_chitchat(p)]
    return out


def _superseded(units: list[_Unit], j: int, dropped: set[int]) -> int | None:
    """The unit that unit ``j`` corrects: the corrector's own latest statement of a fact of
    the same kind, else anyone's among the last few units."""
    new = facts(units[j].text).kinds()
    for i in range(j - 1, max(-1, j - 1 - _LOOKBACK), -1):
        same_sender = units[i].sender == units[j].sender
        if i not in dropped and same_sender and facts(units[i].text).kinds() & new:
            return i
    for i in range(j - 1, max(-1, j - 1 - _LOOKBACK_OTHERS), -1):
        if i not in dropped and facts(units[i].text).kinds() & new:
            return i
    return None


def _replace_fact(text: str, old: str, new: str) -> str:
    return re.sub(rf"(?<!\w){re.escape(old)}(?!\w)", lambda _: new, text, count=1)


def _residue(text: str) -> list[str]:
    """Words a correction says besides its cue and its facts ("no wait, Thursday": none)."""
    found = facts(text)
    rest = correction_cue_removed(text)
    for value in (*found.dates, *found.times, *found.places, *found.numbers):
        rest = rest.replace(value, " ")
    return words(rest)


def _same_subject(statement: str, correction: str) -> bool:
    """Is a full-sentence correction about the earlier statement? It shares a content word
    with it (4+ letters, facts aside), or it opens on a pronoun that points back ("it")."""
    residue = _residue(correction)
    if residue and residue[0].lower() in _BACK_POINTERS:
        return True
    mine = {w.lower() for w in residue if len(w) >= 4}
    return bool(mine & {w.lower() for w in _residue(statement) if len(w) >= 4})


def _resolve_corrections(
    units: list[_Unit], vectors: npt.NDArray[np.float32], backend: Backend, language: str
) -> tuple[list[_Unit], npt.NDArray[np.float32], frozenset[str]]:
    """Apply corrections ("no wait, Thursday") and drop the statements they supersede.

    A bare correction (a few words besides its cue and facts) is folded into the statement
    it corrects: the old fact is replaced by the new one, the rest quoted as written. A
    correction that is a full statement replaces the earlier one only when both are about
    the same thing (:func:`_same_subject`); otherwise nothing is dropped ("we moved the
    demo to 22 March" does not correct "delivery is on 15 March"). Also returns the
    superseded facts ("Wednesday"), which no summary may state.
    """
    dropped: set[int] = set()
    stale: set[str] = set()
    merged_units: list[int] = []
    for j, unit in enumerate(units):
        if not is_correction(unit.text) or not facts(unit.text).count:
            continue
        i = _superseded(units, j, dropped)
        if i is None:
            continue
        residue = len(_residue(unit.text))
        # Someone correcting another person's statement must do it in so many words
        # ("no, Thursday"); "I can only come at 4" is about the speaker, not the event.
        limit = _BARE_CORRECTION_WORDS if units[i].sender == unit.sender else 1
        bare = residue <= limit
        if not bare and not _same_subject(units[i].text, unit.text):
            continue
        dropped.add(i)
        unit.kind, unit.forced = "correction", True
        old, new = facts(units[i].text), facts(unit.text)
        corrected_kinds = old.kinds() & new.kinds()
        said = unit.text  # the correction as written, before any merge
        if not bare:
            stale |= _absent_facts(old, corrected_kinds, unit.text)
            continue
        for kind in ("dates", "times", "places", "numbers"):
            old_values = getattr(old, kind)
            fresh = [v for v in getattr(new, kind) if v.lower() not in units[i].text.lower()]
            if len(old_values) == 1 and len(fresh) == 1:
                merged = _replace_fact(units[i].text, old_values[0], fresh[0])
                sender = units[i].sender
                if sender != unit.sender:
                    corrected = _CORRECTED_BY.get(language, _CORRECTED_BY["en"])
                    sender = f"{sender} ({corrected} {unit.sender})"
                unit.text, unit.sender, unit.message = merged, sender, units[i].message
                merged_units.append(j)
                break
        stale |= _absent_facts(old, corrected_kinds, said)
    if merged_units:
        vectors = vectors.copy()
        vectors[merged_units] = backend.embed([units[j].text for j in merged_units])
    keep = [i for i in range(len(units)) if i not in dropped]
    return [units[i] for i in keep], vectors[keep], frozenset(stale)


def _absent_facts(found: Facts, kinds: frozenset[str], text: str) -> set[str]:
    """The facts of ``kinds`` in ``found`` that ``text`` does not state."""
    return {v for kind in kinds for v in getattr(found, kind) if not _states(text, v)}


def _states(text: str, value: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE) is not None


def _score(units: list[_Unit], vectors: npt.NDArray[np.float32]) -> None:
    """Salience: what a sentence carries first, its centrality second."""
    centroid = vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
    centrality = vectors @ centroid
    for unit, central in zip(units, centrality, strict=True):
        found = facts(unit.text)
        names, _ = names_and_numbers(unit.text)
        n_words = len(words(unit.text))
        score = 0.3 * float(central) + 0.15 * min(n_words, 15) / 15
        if found.count:
            score += 0.35
            if unit.kind == "context":
                unit.kind = "fact"
        if names:
            score += 0.15
        if is_decision(unit.text):
            score += 0.3
            if unit.kind in ("context", "fact"):
                unit.kind = "decision"
        if is_question_to_reader(unit.text):
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
    index = {c: k for k, c in enumerate(candidates)}
    sims = vectors[candidates] @ vectors[candidates].T

    def redundancy(i: int) -> float:
        return max((float(sims[index[i], index[j]]) for j in chosen), default=0.0)

    def overlap(i: int) -> float:
        # Unrelated sentences still score 0.1 to 0.4 in this space: only similarity beyond
        # _RELATED counts as repetition, scaled to 0..1.
        return max(0.0, redundancy(i) - _RELATED) / (1.0 - _RELATED)

    forced = sorted((i for i in candidates if units[i].forced), key=lambda i: -units[i].score)
    for i in forced:
        if len(chosen) >= budget + 4:  # questions and corrections may exceed the budget a little
            break
        if redundancy(i) < _DUPLICATE:
            chosen.append(i)
    rest = [i for i in candidates if i not in chosen]

    def gain(i: int) -> float:
        return _MMR_LAMBDA * units[i].score - (1 - _MMR_LAMBDA) * overlap(i)

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


def _extractive(chat: Chat, backend: Backend) -> tuple[Summary, frozenset[str]]:
    language = chat.base_language
    units = _units(chat)
    unread = len(chat.unread)
    if not units:  # only quoted lines, empty texts or chit-chat
        empty = Summary(_EMPTY.get(language, _EMPTY["en"]), (), chat.language, unread, "empty")
        return empty, frozenset()
    vectors = backend.embed([u.text for u in units])
    units, vectors, stale = _resolve_corrections(units, vectors, backend, language)
    stale = frozenset(v for v in stale if not any(_states(u.text, v) for u in units))
    _score(units, vectors)
    unread_order = [i for i, m in enumerate(chat.messages) if m.unread]
    part_of = {index: position // PART_MESSAGES for position, index in enumerate(unread_order)}
    parts: dict[int, list[int]] = {}
    for i, unit in enumerate(units):
        parts.setdefault(part_of[unit.message], []).append(i)
    if len(parts) == 1:
        chosen = _mmr(list(range(len(units))), vectors, units, _budget(len(units), MAX_POINTS))
    else:
        picks: list[int] = []
        for members in parts.values():
            picks += _mmr(members, vectors, units, _budget(len(members), PART_POINTS))
        chosen = _mmr(picks, vectors, units, MAX_POINTS)
    points = tuple(
        Point(units[i].sender, units[i].text, units[i].message, units[i].kind)
        for i in sorted(chosen)
    )
    method = f"extractive ({backend.name})"
    return Summary(_render(points), points, chat.language, unread, method), stale


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
        "A task belongs to the person who said they would do it. "
        "Never add a fact, name or number that is not in the messages. End every "
        "sentence with the numbers of the messages it comes from, like [2] or [1, 3]."
    )
    return system, "Messages:\n" + "\n".join(lines)


def _abstractive(
    chat: Chat, backend: Generator, stale: frozenset[str], points: Sequence[Point] = ()
) -> tuple[str | None, str]:
    """The model's summary and "", or None and why it was refused.

    The model is given the unread messages numbered ``[1]``, ``[2]``...; every sentence
    it writes must cite them and pass :func:`privproc.workloads.grounding.check_generated`
    against the messages it cites (who, when, where, how many, no superseded fact, a
    task's taker from the embedded summary's task ``points``), then the whole-text checks
    below. The text shown has the citation marks removed."""
    language = chat.base_language
    given: list[Numbered] = []
    for index, m in enumerate(chat.messages):
        body = " ".join(split_sentences(strip_quoted(m.text))).strip()
        if m.unread and body:
            given.append(Numbered(len(given) + 1, index, m.sender, body))
    if not given:
        return None, "nothing to summarize"
    lines = [f"[{g.number}] {g.sender}: {g.text}" for g in given]
    source = chat.chat + "\n" + "\n".join(f"{g.sender}: {g.text}" for g in given)
    parts = [lines[i : i + PART_MESSAGES] for i in range(0, len(lines), PART_MESSAGES)]
    summaries = []
    for part in parts:
        system, prompt = _prompt(part, language)
        summaries.append(backend.generate(prompt, system=system, max_tokens=300).strip())
    if len(summaries) > 1:
        system, _ = _prompt([], language)
        joined = "Partial summaries, in order, with their message numbers:\n" + "\n".join(summaries)
        text = backend.generate(joined, system=system, max_tokens=300).strip()
    else:
        text = summaries[0]
    if not text:
        return None, "empty reply"
    takers = {
        i: p.sender
        for p in points
        if p.kind == "task"
        for i in (p.message,)
        if chat.messages[i].sender == p.sender
    }
    verdict = check_generated(text, given, stale=stale, takers=takers, language=language)
    if verdict.refusal is not None:
        return None, f"sentence {verdict.position + 1}: {verdict.refusal}"
    shown = "\n".join(f"- {s.text}" for s in verdict.sentences)
    if not _attributed(shown, {m.sender for m in chat.unread}):
        return None, "names a sender who did not write"
    if not _grounded(shown, source):
        return None, "says something the messages do not"
    return shown, ""


def _attributed(output: str, senders: set[str]) -> bool:
    """Every ``Name:`` that opens a line of the output is one of the unread messages' senders."""
    for line in output.splitlines():
        match = re.match(r"^\s*(?:[-*\u2022]\s*)?([^:\n]{1,60}):\s", line)
        if (
            match
            and re.fullmatch(r"[\w .'\u2019-]+", match.group(1))
            and not any(s.lower() in match.group(1).lower() for s in senders)
        ):
            return False
    return True


def _stem(word: str) -> str:
    return word.lower()[:_STEM]


def _grounded(output: str, source: str) -> bool:
    """Each sentence of the output mostly reuses the messages' content words.

    A summary may rephrase, but its content words (5+ letters, compared on their first
    _STEM letters to allow for inflection) come from the messages; a sentence where fewer
    than _GROUNDED of them do says something the messages did not.
    """
    known = {_stem(w) for w in words(source)}
    for sentence in split_sentences(output):
        content = [w for w in words(sentence) if len(w) >= 5 and not w.isdigit()]
        if len(content) >= 2:
            grounded = sum(_stem(w) in known for w in content) / len(content)
            if grounded < _GROUNDED:
                return False
    return True
