"""Summaries of a chat's unread messages.

Two methods, chosen by what the backend can do:

* **extractive** (every backend, the embedded default; :mod:`privproc.workloads.digest`):
  a summary, not a quote list: the unread messages grouped by topic, each topic's final
  state (the last change of plan wins, a superseded plan appears only as "moved from
  ..."), tasks with the sender who took them, open questions, decisions and facts,
  compressed and ordered by importance, within a size budget. It writes no fact of its
  own: every name, number, date, time and place is the chat's. The cues come from the
  chat language's data file (:mod:`privproc.workloads.cues`); a chat in a language with
  no cue file gets a plain fallback that says so and quotes the latest messages.
* **abstractive** (a backend that can ``generate``): the model writes the summary, part
  by part then together, from the unread messages numbered ``[1]``, ``[2]``...; its
  output is refused, and the extractive summary returned instead (``method`` says
  which sentence and check), when a sentence cites no message, or states a name,
  number, time, date or place its cited messages do not contain, or a fact the chat
  corrected, or gives a task to someone other than the sender who took it
  (:mod:`privproc.workloads.grounding`); or when a line opens with a sender who did
  not write, or a sentence's content words mostly do not come from the messages, or a
  sentence is in another language than the chat's.
  Streamed (:func:`stream_unread`), each line is shown once it passed, while the model
  writes the next; a refused line withdraws those shown and the extractive summary
  follows.
"""

from __future__ import annotations

import re
from collections.abc import Generator as Generator_
from collections.abc import Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import Any

from privproc.errors import ConfigError, PolicyError
from privproc.workloads.backend import Backend, Generator, TextStreamer
from privproc.workloads.chat import Chat
from privproc.workloads.cues import all_cues, cues_for
from privproc.workloads.digest import MAX_STATEMENTS, budget, digest
from privproc.workloads.grounding import Numbered, SentenceChecker, cited_sentences
from privproc.workloads.text import (
    is_chitchat,
    split_sentences,
    strip_quoted,
    words,
)

__all__ = ["Point", "Summary", "Withdrawn", "stream_unread", "summarize_unread"]

#: Unread messages a generative backend summarizes together before the parts are combined.
PART_MESSAGES = 40
#: Most statements an embedded summary holds.
MAX_POINTS = MAX_STATEMENTS

#: Abstractive output checks: a sentence's content words must mostly come from the messages.
_STEM = 5
_GROUNDED = 0.6

_LANGUAGE_NAMES = {"en": "English", "fr": "French", "es": "Spanish", "de": "German"}


@dataclass(frozen=True, slots=True, repr=False)
class Point:
    """One statement of the summary, attributed to its sender.

    ``repr()`` shows the sender's and the text's lengths, never their content.

    ``messages`` are the indices in ``chat.messages`` of every message it comes from (a
    plan and the messages that changed it, a task and the request it answers);
    ``message`` is the last of them (kept for older readers). ``kind`` is ``"plan"``,
    ``"task"``, ``"question"``, ``"decision"``, ``"fact"``, ``"context"``, or ``"quote"``
    (the fallback for a language without cues).
    """

    sender: str
    text: str
    message: int
    kind: str
    messages: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.messages:
            object.__setattr__(self, "messages", (self.message,))

    def to_json(self) -> dict[str, Any]:
        """The point as JSON: sender, text, message, messages, kind."""
        return {
            "sender": self.sender,
            "text": self.text,
            "message": self.message,
            "messages": list(self.messages),
            "kind": self.kind,
        }

    def __repr__(self) -> str:
        return (
            f"Point(sender=<{len(self.sender)} chars>, text=<{len(self.text)} chars>, "
            f"message={self.message}, messages={self.messages}, kind={self.kind!r})"
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
            "points": [p.to_json() for p in self.points],
            "language": self.language,
            "unread": self.unread,
            "method": self.method,
        }

    def __repr__(self) -> str:
        return (
            f"Summary(text=<{len(self.text)} chars>, points={self.points!r}, "
            f"language={self.language!r}, unread={self.unread}, method={self.method!r})"
        )


def summarize_unread(chat: Chat, *, backend: Backend) -> Summary:
    """Summarize ``chat``'s unread messages (1 to 1000) with ``backend``.

    Raises PolicyError when the chat has Advanced Chat Privacy on (``ai_blocked``).
    """
    for item in _summary(chat, backend, streamed=False):
        if isinstance(item, Summary):
            return item
    raise AssertionError("a summary ends with its Summary")  # pragma: no cover


def stream_unread(chat: Chat, *, backend: Backend) -> Iterator[str | Withdrawn | Summary]:
    """:func:`summarize_unread` as it is written: each line of the summary as soon as it
    is ready, then the :class:`Summary`, whose text is those lines joined by newlines.

    A model's line is yielded once it passed every check (module docstring) and while
    the model is still writing the next (a backend that can :class:`TextStreamer`
    ``stream``). When a later line fails, the model's lines yielded so far are withdrawn
    (:class:`Withdrawn`: how many, and why) and the embedded summary's lines follow, so
    what the Summary holds is always text that passed as a whole. Raises PolicyError
    (on the first ``next``) when the chat has Advanced Chat Privacy on.
    """
    return _summary(chat, backend, streamed=True)


@dataclass(frozen=True, slots=True)
class Withdrawn:
    """In a streamed summary: the model's ``lines`` shown so far are withdrawn, because a
    later line was refused (``why``: the sentence and its check); the embedded summary
    follows in their place."""

    lines: int
    why: str


def _summary(
    chat: Chat, backend: Backend, *, streamed: bool
) -> Iterator[str | Withdrawn | Summary]:
    if chat.ai_blocked:
        raise PolicyError("workloads.ai_blocked", "the chat has Advanced Chat Privacy on")
    unread = chat.unread
    if not unread:
        cues = cues_for(chat.base_language) or cues_for("en")
        empty = cues.string("empty") if cues is not None else "No unread messages."
        yield empty
        yield Summary(empty, (), chat.language, 0, "empty")
        return
    extractive, stale = _extractive(chat, backend)
    method = extractive.method
    if isinstance(backend, Generator):
        shown: list[str] = []
        refusal = yield from _abstractive(
            chat, backend, stale, extractive.points, shown=shown, streamed=streamed
        )
        if refusal is None:
            text = "\n".join(shown)
            yield Summary(text, extractive.points, chat.language, len(unread), "abstractive")
            return
        if shown:
            yield Withdrawn(len(shown), refusal)
        method = f"extractive (abstractive refused: {refusal})"
    yield from extractive.text.split("\n")
    yield Summary(extractive.text, extractive.points, chat.language, len(unread), method)


# -- embedded (digest) and the plain fallback ---------------------------------------------------


def _extractive(chat: Chat, backend: Backend) -> tuple[Summary, frozenset[str]]:
    """The embedded summary (:mod:`privproc.workloads.digest`), or, for a language without a
    cue file, the plain fallback: the latest unread messages quoted, saying so."""
    unread = len(chat.unread)
    cues = cues_for(chat.language)
    if cues is None:
        return _fallback(chat), frozenset()
    text, statements, stale = digest(chat, cues, backend)
    if not statements:
        return Summary(cues.string("empty"), (), chat.language, unread, "empty"), frozenset()
    points = tuple(Point(s.sender, s.text, s.messages[-1], s.kind, s.messages) for s in statements)
    return Summary(text, points, chat.language, unread, f"extractive ({backend.name})"), stale


def _fallback(chat: Chat) -> Summary:
    english = cues_for("en")
    if english is None:  # pragma: no cover - the package ships en.json
        raise ConfigError("cue file missing: en.json")
    header = english.string("fallback", language=chat.base_language)
    limit = max(budget(chat), len(header) + 80)
    lines: list[str] = []
    points: list[Point] = []
    size = len(header)
    for index in reversed([i for i, m in enumerate(chat.messages) if m.unread]):
        message = chat.messages[index]
        body = " ".join(split_sentences(strip_quoted(message.text)))
        if not body or is_chitchat(body):
            continue
        line = f"{message.sender}: {body}"
        if lines and size + len(line) + 1 > limit:
            break
        lines.insert(0, line)
        points.insert(0, Point(message.sender, body, index, "quote", (index,)))
        size += len(line) + 1
    if not points:
        return Summary(header, (), chat.language, len(chat.unread), "empty")
    method = f"fallback (no cues for language {chat.base_language!r}; messages quoted)"
    return Summary(
        "\n".join([header, *lines]), tuple(points), chat.language, len(chat.unread), method
    )


# -- abstractive --------------------------------------------------------------------------------


def _prompt(lines: Sequence[str], language: str) -> tuple[str, str]:
    """The system message and the prompt: the rules, then one worked example, because a
    small model told only the rules copies the messages out one by one (Qwen2.5-1.5B did,
    every time: docs/workloads.md)."""
    name = _LANGUAGE_NAMES.get(language, language)
    system = (
        f"You summarize a group chat for someone who has not read it. Write in {name}. "
        "Write 2 to 5 short bullet points. Never copy the messages one by one: combine them. "
        "Each bullet states a decision, a plan, a task and the person who said they would "
        "do it, or a question for the reader. When a plan changed, state only the final "
        "plan. Never add a fact, name or number that is not in the messages. End each "
        "bullet with the numbers of the messages it comes from, like [2] or [1, 3].\n\n"
        "Example.\nMessages:\n[1] Ana: Dinner on Friday at 8?\n[2] Ben: Friday I can't\n"
        "[3] Ana: Saturday at 8 then\n[4] Ben: I'll bring dessert\n"
        "Summary:\n- Dinner is on Saturday at 8 [1, 3].\n- Ben will bring dessert [4]."
    )
    return system, "Messages:\n" + "\n".join(lines) + "\nSummary:"


def _abstractive(
    chat: Chat,
    backend: Generator,
    stale: frozenset[str],
    points: Sequence[Point],
    *,
    shown: list[str],
    streamed: bool,
) -> Generator_[str, None, str | None]:
    """Yields the model's summary line by line, each once it passed its checks (and
    appended to ``shown``); returns None when the whole summary passed, else why it was
    refused (its first failing sentence and check).

    The model is given the unread messages numbered ``[1]``, ``[2]``...; every sentence
    it writes must cite them and pass :class:`privproc.workloads.grounding.SentenceChecker`
    against the messages it cites (who, when, where, how many, no superseded fact, a
    task's taker from the embedded summary's task ``points``), then the line checks
    below. A line shown is ``- `` and one sentence without its citation marks. With
    ``streamed`` and a backend that can stream, the last prompt's reply is checked as it
    is written; a refusal closes that stream (the model stops)."""
    language = chat.base_language
    given: list[Numbered] = []
    for index, m in enumerate(chat.messages):
        body = " ".join(split_sentences(strip_quoted(m.text))).strip()
        if m.unread and body:
            given.append(Numbered(len(given) + 1, index, m.sender, body))
    if not given:
        return "nothing to summarize"
    lines = [f"[{g.number}] {g.sender}: {g.text}" for g in given]
    source = chat.chat + "\n" + "\n".join(f"{g.sender}: {g.text}" for g in given)
    parts = [lines[i : i + PART_MESSAGES] for i in range(0, len(lines), PART_MESSAGES)]
    system, prompt = _prompt(parts[0], language)
    if len(parts) > 1:
        summaries = []
        for part in parts:
            part_system, part_prompt = _prompt(part, language)
            summaries.append(backend.generate(part_prompt, system=part_system, max_tokens=300))
        prompt = "Partial summaries, in order, with their message numbers:\n" + "\n".join(
            s.strip() for s in summaries
        )
    takers, requests = _takers(chat, points)
    checker = SentenceChecker(
        given, stale=stale, takers=takers, requests=requests, language=language
    )
    senders = {m.sender for m in chat.unread}
    known = {_stem(w) for w in words(source)}
    if streamed and isinstance(backend, TextStreamer):
        pieces = backend.stream(prompt, system=system, max_tokens=300)
    else:
        pieces = iter([backend.generate(prompt, system=system, max_tokens=300)])
    wrote, count = False, 0
    with closing(_lines_of(pieces)) as reply:
        for raw in reply:
            wrote = wrote or bool(raw.strip())
            for sentence in cited_sentences(raw):
                count += 1
                refusal = checker.check(sentence)
                if refusal is not None:
                    return f"sentence {count}: {refusal}"
                line = f"- {sentence.text}"
                if not _attributed(line, senders):
                    return "names a sender who did not write"
                if not _grounded(line, known):
                    return "says something the messages do not"
                if not _in_language(sentence.text, language):
                    return "not in the chat's language"
                shown.append(line)
                yield line
    if not wrote:
        return "empty reply"
    return None if count else "sentence 1: uncited"


def _takers(chat: Chat, points: Sequence[Point]) -> tuple[dict[int, str], dict[int, str]]:
    """Message index -> the sender who took the task it holds: the offers ("I'll review it
    today"), and apart the requests they answered ("Who can review the billing PR?"); a
    request message whose tasks went to two people maps to neither."""
    found: dict[int, set[str]] = {}
    for p in points:
        if p.kind == "task":
            for i in p.messages:
                found.setdefault(i, set()).add(p.sender)
    offers: dict[int, str] = {}
    requests: dict[int, str] = {}
    for i, who in found.items():
        if chat.messages[i].sender in who:  # the offer's own message: its sender took it
            offers[i] = chat.messages[i].sender
        elif len(who) == 1:  # the request, whose task went to one person
            requests[i] = next(iter(who))
    return offers, requests


def _lines_of(pieces: Iterator[str]) -> Generator_[str, None, None]:
    """The text of ``pieces`` line by line, each line once its end (or the text's) came;
    closing this closes ``pieces`` (a model's stream stops)."""
    held = ""
    try:
        for piece in pieces:
            held += piece
            *complete, held = held.split("\n")
            yield from complete
        yield held
    finally:
        close = getattr(pieces, "close", None)
        if close is not None:
            close()


def _states(text: str, value: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text, re.IGNORECASE) is not None


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


def _in_language(sentence: str, language: str) -> bool:
    """The sentence reads as the chat's language: no other cue file's common words ("the",
    "and" in a summary of a French chat) outnumber the chat language's own in it. A small
    model told to write in French may write English anyway."""
    own = cues_for(language)
    if own is None:
        return True
    tokens = [w.lower() for w in words(sentence)]
    mine = sum(t in own.common_words for t in tokens)
    return all(
        sum(t in other.common_words - own.common_words for t in tokens) <= mine
        for other in all_cues().values()
        if other.language != own.language
    )


def _stem(word: str) -> str:
    return word.lower()[:_STEM]


def _grounded(output: str, known: set[str]) -> bool:
    """Each sentence of the output mostly reuses the messages' content words (``known``:
    their stems).

    A summary may rephrase, but its content words (5+ letters, compared on their first
    _STEM letters to allow for inflection) come from the messages; a sentence where fewer
    than _GROUNDED of them do says something the messages did not.
    """
    for sentence in split_sentences(output):
        content = [w for w in words(sentence) if len(w) >= 5 and not w.isdigit()]
        if len(content) >= 2:
            grounded = sum(_stem(w) in known for w in content) / len(content)
            if grounded < _GROUNDED:
                return False
    return True
