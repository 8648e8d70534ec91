"""The embedded summary: topics, their final state, tasks and open questions, compressed.

No model writes here, so no fact can be invented: every name, number, date, time and
place in the output is copied from the unread messages; the only words added are the
language's few summary strings (``"moved from ..."``, ``"... asks: ..."``, ``"... will
..."``) from its cue file (:mod:`privproc.workloads.cues`). The steps:

1. **Clauses**: each unread message's sentences (quoted-reply lines dropped); chit-chat
   ("ok", "lol", emoji) is dropped. Each clause is classified with the chat language's
   cues: correction, decision, acceptance ("ok, ... then"), proposal ("how about"),
   request ("can someone ..."), offer ("I'll ..."), question, fact (a date, time, place
   or number).
2. **Topics**: a clause joins the topic of an earlier clause it is bound to: another
   sentence of the same message, the request it answers ("I'll get him" after "can
   someone pick Leo up?"), a clause stating the same date, time or place, a plan it
   changes, the question it answers; else a topic with which it shares a content word,
   or a new topic.
3. **Final state**: in each topic the last change of plan wins. A correction, decision,
   acceptance or proposal that states a date, time, place (or, for a correction, a
   number) of the same kind as the topic's current plan replaces it; what it replaces is
   reported only as "(moved from ...)". Someone correcting another person's plan must do
   it in so many words, or about the same thing ("I can only come at 4" moves nothing).
   A bare correction ("no wait, Thursday") is folded into the plan it corrects.
4. **Compression**: openers and closers ("ok", "so", "then", "please") are dropped;
   first-person forms the cue file lists become third person ("I'll" -> "Dad will");
   the task of a request goes to the sender who took it ("Dad will pick Leo up at the
   station (train 11:50)"), never to the one who asked; a question nobody answered is
   "Ana asks: ...". Anything still in the first person keeps its sender ("Ana: ...").
5. **Order and size**: statements by importance (changed plans, plans, tasks, open
   questions, decisions, facts, the rest), one line per topic, within a budget: for more
   than :data:`SHORT_CHAT` unread messages at most :data:`RATIO` of their characters.

Every statement keeps the indices (in ``chat.messages``) of the messages it came from.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from privproc.workloads.backend import Backend
from privproc.workloads.chat import Chat
from privproc.workloads.cues import Cues
from privproc.workloads.referents import resolve
from privproc.workloads.text import Facts, facts, is_chitchat, split_sentences, strip_quoted, words

__all__ = ["RATIO", "SHORT_CHAT", "Statement", "budget", "digest"]

#: Above this many unread messages a summary is at most RATIO of their characters.
SHORT_CHAT = 10
RATIO = 0.3
#: A summary of a short chat (at most SHORT_CHAT unread messages) keeps every plan, task,
#: question, decision and fact; only context lines count against this share of the chat.
SHORT_RATIO = 0.85
MAX_STATEMENTS = 12
_MAX_CONTEXT = 2
#: How far back (in clauses) a clause looks for what it answers, repeats or changes.
_WINDOW = 12
_ANSWER_WINDOW = 4
_CHANGE_WINDOW = 80
_DUPLICATE = 0.85
_REPEAT = 0.8
_BARE_WORDS = 5
_PLAN_KINDS = frozenset({"dates", "times", "places"})
_UPPER = "A-ZÀ-ÖØ-Þ"
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f900-\U0001f9ff\ufe0f\u200d]+", re.UNICODE
)
_LAUGHTER = re.compile(r"(?i)\b(?:lol|lmao|haha+|hehe+|mdr|ptdr|jaja+)\b")
_TIME_PARTS = re.compile(r"(\d{1,2})(?:\s*[:h.]\s*(\d{2}))?\s*(a\.?m\.?|p\.?m\.?)?", re.IGNORECASE)


@dataclass(frozen=True, slots=True, repr=False)
class Statement:
    """One statement of a summary and the messages it came from (indices in the chat).

    ``kind``: ``"plan"``, ``"task"``, ``"question"``, ``"decision"``, ``"fact"``,
    ``"context"`` or ``"quote"`` (the fallback). ``repr()`` shows no content.
    """

    sender: str
    text: str
    messages: tuple[int, ...]
    kind: str
    topic: int
    importance: float

    def __repr__(self) -> str:
        return (
            f"Statement(text=<{len(self.text)} chars>, messages={self.messages}, "
            f"kind={self.kind!r}, topic={self.topic})"
        )


@dataclass(slots=True)
class _Clause:
    position: int
    message: int
    sender: str = field(repr=False)
    text: str = field(repr=False)
    facts: Facts = field(repr=False)
    cues: set[str] = field(default_factory=set)
    topic: int = -1
    answers: int | None = None  # the request or question this clause answers
    taken_by: int | None = None  # for a request: the offer that took it
    answered: bool = False
    resolved: bool = False  # a later message by someone else answers it in its own words
    superseded: bool = False  # a later correction replaced its number ("48,000, not 45,000")
    was: tuple[str, ...] = ()  # for a correction: the numbers it replaced
    was_messages: tuple[int, ...] = ()  # ... and the messages that said them


@dataclass(slots=True)
class _Topic:
    clauses: list[int] = field(default_factory=list)
    plan: int | None = None  # the clause holding the current plan
    plan_text: str = ""
    plan_messages: set[int] = field(default_factory=set)
    first_text: str = ""  # the first plan, for "moved from ..."
    seen: dict[str, tuple[str, str]] = field(default_factory=dict)  # norm -> (kind, as said)
    stale_values: set[str] = field(default_factory=set)  # values no longer in the plan
    history: set[int] = field(default_factory=set)  # clauses that proposed or changed plans
    asked: int | None = None  # an open request stating a plan ("Dinner at 8, are you coming?")


# -- clauses --------------------------------------------------------------------------------------


def _clauses(chat: Chat, cues: Cues) -> list[_Clause]:
    out: list[_Clause] = []
    for index, message in enumerate(chat.messages):
        if not message.unread:
            continue
        parts = [
            p for s in split_sentences(strip_quoted(message.text))[:16] for p in _parts(s, cues)
        ]
        for sentence, inside in parts:
            if is_chitchat(sentence) or not words(_EMOJI.sub(" ", sentence)):
                continue
            clause = _Clause(len(out), index, message.sender, sentence, facts(sentence))
            for kind in ("corrections", "decisions", "acceptances", "proposals", "offers"):
                if cues.match(kind, sentence):
                    clause.cues.add(kind)
            if inside:
                clause.cues.add("inside")
            if "?" in sentence or (inside and cues.match("requests", sentence)):
                clause.cues.add("question")
                asks = cues.match("requests", sentence) or cues.match("reader_words", sentence)
                if asks and "proposals" not in clause.cues:
                    clause.cues.add("requests")
                clause.cues.discard("offers")  # "can I bring anything?" offers nothing yet
            if _only_acceptance(clause, out, cues):
                clause.cues.add("ack")
            out.append(clause)
        mine = [c for c in out if c.message == index]
        if any("requests" in c.cues for c in mine):
            for c in mine:  # "My train arrives at 11:50." belongs to the request
                c.cues.add("request_part")
    return out


def _parts(sentence: str, cues: Cues) -> list[tuple[str, bool]]:
    """A sentence, or its parts when a request is asked inside a statement ("We need 12
    sausages, Tom can you get them?"; "The hall is booked, can you send the invoice to
    Omar, and the caterer comes at 6"): (text, is a request asked inside)."""
    opener = (
        rf"(?:[{_UPPER}][\w'\u2019-]*,?\s+)?(?:\u00bf\s*)?(?:{cues.sources['request_openers']})"
    )
    split = re.search(rf"[,;]\s+(?={opener})", sentence, re.IGNORECASE)
    if split is None:
        return [(sentence, False)]
    before, request = sentence[: split.start()], sentence[split.end() :]
    if len(_content(before, cues)) < 2 and not facts(before).count:
        return [(sentence, False)]  # "Hi Tom, can you ...": one request
    joiner = "|".join(re.escape(w) for w in sorted(cues.and_words, key=len, reverse=True))
    rest = re.search(rf",\s+(?:{joiner})\s+(?=\w)", request) if joiner else None
    parts = [(before.rstrip(" ,;") + ".", False)]
    if rest is None:
        return [*parts, (request, True)]
    tail = request[rest.end() :]
    return [*parts, (request[: rest.start()], True), (tail[:1].upper() + tail[1:], True)]


def _content(text: str, cues: Cues) -> set[str]:
    """Content words: 4+ letters, not a common word, cue or chit-chat, compared on 5 letters."""
    stop = cues.common_words | cues.chitchat | cues.first_person_words
    return {w.lower()[:5] for w in words(text) if len(w) >= 4 and w.lower() not in stop}


def _residue(text: str, cues: Cues, *, plain: bool = False) -> set[str]:
    """Content words besides the cues and the facts ("no wait, Thursday": none); with
    ``plain``, besides only the openers, closers and facts ("Ok, Sunday then": none; "Ok,
    lunch on Sunday then": "lunch"). Words saying the rest of the plan stays ("same
    time", cue ``unchanged``) are not content either way."""
    found = facts(text)
    rest = text
    kinds = ("corrections", "acceptances", "proposals", "decisions")
    for kind in ("openers", "closers") if plain else (*kinds, "openers", "closers"):
        rest = cues.patterns[kind].sub(" ", rest)
    rest = cues.patterns["unchanged"].sub(" ", rest)  # "same time": the rest of the plan stays
    for value in (*found.dates, *found.times, *found.places, *found.numbers):
        rest = rest.replace(value, " ")
    return _content(rest, cues)


def _only_acceptance(clause: _Clause, before: list[_Clause], cues: Cues) -> bool:
    """ "Lunch works for me", "7:30 works": agrees, states nothing new of its own (no
    value that no earlier clause stated)."""
    if "acceptances" not in clause.cues or len(_residue(clause.text, cues)) > 1:
        return False
    if cues.match("unchanged", clause.text):  # "Friday then, same time" restates the plan
        return False
    said = {v for c in before[-_WINDOW:] for vs in _values(c.facts).values() for v in vs}
    return {v for vs in _values(clause.facts).values() for v in vs} <= said


# -- values ---------------------------------------------------------------------------------------


def _norm(value: str) -> str:
    """A fact value compared loosely: "7pm" = "7 pm" = "19:00" = "7:00"; "the 24th" = "24th"."""
    text = value.lower().strip()
    match = (
        _TIME_PARTS.fullmatch(re.sub(r"\s*(?:uhr|h)$", "", text))
        if any(c.isdigit() for c in text)
        else None
    )
    if match and not re.search(r"(st|nd|rd|th|er)\b|\.$", text):
        hour, minute = int(match.group(1)), int(match.group(2) or 0)
        return f"t{hour % 12}:{minute:02d}"
    text = re.sub(r"^(?:the|le|la|el|am|den|zum|vom|on|du)\s+", "", text)
    return re.sub(r"(?<=\d)(?:st|nd|rd|th|er|\.)", "", text)


def _values(found: Facts, kinds: frozenset[str] = _PLAN_KINDS) -> dict[str, set[str]]:
    return {kind: {_norm(v) for v in getattr(found, kind)} for kind in kinds}


def _plan_kinds(found: Facts) -> frozenset[str]:
    return found.kinds() & _PLAN_KINDS


def _span(text: str, found: Facts, kinds: frozenset[str]) -> str:
    """The words of ``text`` from its first to its last fact of ``kinds`` (plan kinds)."""
    spots = []
    for kind in kinds:
        for value in getattr(found, kind):
            at = text.find(value)
            if at >= 0:
                spots.append((at, at + len(value)))
    if not spots:
        return ""
    return text[min(s for s, _ in spots) : max(e for _, e in spots)].strip(" ,.;")


# -- topics ---------------------------------------------------------------------------------------


def _changes(topic: _Topic, clauses: list[_Clause], c: _Clause, cues: Cues) -> bool:
    """Does clause ``c`` change (or restate, as the final word) the plan of ``topic``?

    An acceptance or a proposal ("ok, lunch on the 25th then", "how about 7 instead?")
    changes it. A decision or a correction must be about the same thing (a shared content
    word, or "it" pointing back) or, for a correction by the plan's own sender, bare ("no
    wait, Thursday"); someone else's correction must be bare in so many words ("no,
    Thursday"): "I can only come at 4" is about the speaker, not the event.
    """
    if topic.plan is None or "ack" in c.cues:
        return False
    plan = clauses[topic.plan]
    kinds = _plan_kinds(c.facts) & _plan_kinds(facts(topic.plan_text))
    if "corrections" in c.cues:
        kinds |= c.facts.kinds() & facts(topic.plan_text).kinds() & {"numbers"}
    if not kinds or not c.cues & {"corrections", "decisions", "acceptances", "proposals"}:
        return False
    residue = _residue(c.text, cues)
    first = words(cues.patterns["corrections"].sub(" ", c.text))[:1]
    points_back = bool(first) and first[0].lower() in cues.back_pointers
    same_subject = points_back or _same_subject(topic, clauses, c, cues)
    mine = c.facts.kinds() & (_PLAN_KINDS | kinds)
    new, old = _values(c.facts, mine), _values(facts(topic.plan_text), mine)
    if all(new[k] <= old[k] for k in mine):
        # It repeats the plan: "7:30 works" changes nothing, "Decided then: 7:00 at the
        # north lot, Ines drives" becomes its final wording.
        return bool(c.cues & {"decisions", "acceptances"}) and len(residue) >= 2 and same_subject
    if c.cues & {"acceptances", "proposals"}:
        return True
    if plan.sender == c.sender:
        return (len(residue) <= _BARE_WORDS and "corrections" in c.cues) or same_subject
    return len(residue) <= 1 or same_subject


def _same_subject(topic: _Topic, clauses: list[_Clause], c: _Clause, cues: Cues) -> bool:
    """Does ``c`` share a content word with ``topic``'s plans ("Abgabe" and "Abgabetermin")?"""
    history = " ".join([topic.plan_text, *(clauses[i].text for i in topic.history)])
    return bool(_residue(c.text, cues) & _content(history, cues))


def _assign(clauses: list[_Clause], cues: Cues) -> list[_Topic]:
    topics: list[_Topic] = []
    for c in clauses:
        recent = clauses[max(0, c.position - _WINDOW) : c.position]
        target = _bound(c, clauses, recent, topics, cues)
        if target is None:
            target = len(topics)
            topics.append(_Topic())
        c.topic = target
        topic = topics[target]
        if "question" not in c.cues and c.cues & {"decisions", "acceptances", "offers"}:
            for q in recent:
                if "question" in q.cues and q.sender != c.sender and q.taken_by is None:
                    q.resolved = q.resolved or bool(_content(q.text, cues) & _content(c.text, cues))
        topic.clauses.append(c.position)
        if "corrections" in c.cues and c.facts.numbers:
            _correct_numbers(topic, clauses, c, cues)
        if c.answers is not None:
            _unasked(topic, clauses[c.answers])
            continue
        if _plan_kinds(c.facts) and not c.cues & {"requests", "request_part"}:
            if topic.plan is None:
                _promote(topic, clauses, c)
            if topic.plan is None:
                _set_plan(topic, c)
            elif _changes(topic, clauses, c, cues):
                _move_plan(topic, c, cues)
        elif _asks_a_plan(c) and topic.plan is None and topic.asked is None:
            topic.asked = c.position
    return topics


def _asks_a_plan(c: _Clause) -> bool:
    """A request that states a plan ("Dinner on Saturday at 8pm, are you coming?"): it is
    its topic's plan once a later message speaks of the same date, time or place, unless
    an offer takes it first ("Can you pick me up at 6?" "I'll get you")."""
    return "requests" in c.cues and "question" in c.cues and bool(_plan_kinds(c.facts))


def _asked_view(topic: _Topic, clauses: list[_Clause]) -> _Topic | None:
    """The topic as a plan: itself once it has one, else its open asked plan as the plan."""
    if topic.plan is not None:
        return topic
    if topic.asked is None or clauses[topic.asked].taken_by is not None:
        return None
    q = clauses[topic.asked]
    return _Topic(plan=q.position, plan_text=q.text, first_text=q.text, history={q.position})


def _promote(topic: _Topic, clauses: list[_Clause], c: _Clause) -> None:
    """A later clause of another message about the same kind of fact (a date, time or
    place) makes the topic's asked plan its plan: "I can't on Saturday" or "Ok, lunch on
    Sunday then" answer the plan, not a task."""
    if topic.asked is None:
        return
    q = clauses[topic.asked]
    if (
        q.taken_by is None
        and q.message != c.message
        and _plan_kinds(q.facts) & _plan_kinds(c.facts)
    ):
        _set_plan(topic, q)
        topic.asked = None


def _unasked(topic: _Topic, request: _Clause) -> None:
    """An offer took ``request``: it is a task, not the plan (unless the plan moved on)."""
    if topic.asked == request.position:
        topic.asked = None
    if topic.plan == request.position and topic.history == {request.position}:
        topic.plan, topic.plan_text, topic.first_text = None, "", ""
        topic.plan_messages, topic.seen, topic.stale_values, topic.history = set(), {}, set(), set()


def _bound(
    c: _Clause, clauses: list[_Clause], recent: list[_Clause], topics: list[_Topic], cues: Cues
) -> int | None:
    """The topic clause ``c`` belongs to, or None for a new one."""
    if recent and recent[-1].message == c.message and "offers" not in c.cues:
        return recent[-1].topic  # another sentence of the same message
    if "offers" in c.cues:
        for r in reversed(recent[-_ANSWER_WINDOW:]):
            related = _content(r.text, cues) & _content(c.text, cues)
            thin = len(_content(c.text, cues)) <= 1
            open_request = "requests" in r.cues and r.sender != c.sender and r.taken_by is None
            if open_request and (related or thin):
                r.taken_by, c.answers, r.answered = c.position, r.position, True
                return r.topic
    mine = {v for vs in _values(c.facts).values() for v in vs}
    for r in reversed(recent):
        theirs = {v for vs in _values(r.facts).values() for v in vs}
        if mine & theirs:
            return r.topic
    if "question" not in c.cues:
        for q in reversed(recent[-2:]):
            shared = bool(_content(q.text, cues) & _content(c.text, cues))
            answers_it = shared or not _plan_kinds(c.facts)
            if "question" in q.cues and q.sender != c.sender and not q.answered and answers_it:
                q.answered = True
                plain = not c.facts.count and not c.cues & {"offers", "decisions", "requests"}
                if _plan_kinds(q.facts) and plain:
                    c.cues.add("ack")  # "count me in": agrees to the plan, nothing more
                return q.topic
    if _plan_kinds(c.facts):
        changed = [
            (r.topic, view)
            for r in reversed(recent)
            if (view := _asked_view(topics[r.topic], clauses)) is not None
            and _changes(view, clauses, c, cues)
        ]
        if changed:  # the newest plan it changes, unless an older one is about the same thing
            about = [t for t, view in changed if _same_subject(view, clauses, c, cues)]
            return (about or [t for t, _ in changed])[0]
        if c.cues & {"corrections", "acceptances", "proposals"}:
            # A change of plan may come long after the plan, with chatter between: look
            # back over the plans of the last _CHANGE_WINDOW clauses, newest first.
            for t in sorted(
                {clauses[i].topic for i in range(max(0, c.position - _CHANGE_WINDOW), c.position)},
                key=lambda t: -(topics[t].plan or topics[t].asked or -1),
            ):
                view = _asked_view(topics[t], clauses)
                if view is not None and _changes(view, clauses, c, cues):
                    return t
    if "ack" in c.cues and recent:
        return recent[-1].topic
    mine_words = _content(c.text, cues)
    for r in reversed(recent):
        if mine_words & _content(r.text, cues):
            return r.topic
    return None


def _correct_numbers(topic: _Topic, clauses: list[_Clause], c: _Clause, cues: Cues) -> None:
    """A correction stating a number ("Correction: the budget is 48,000 dollars") replaces
    the number of an earlier fact of its topic about the same thing (a shared content
    word, said by the corrector or bare): that fact is superseded, its number stale, and
    the correction says "(was 45,000)". A plan's numbers are handled by :func:`_move_plan`.
    Facts of other topics in the last _CHANGE_WINDOW clauses count when about the same thing.
    """
    mine = set(c.facts.numbers)
    nearby = range(max(0, c.position - _CHANGE_WINDOW), c.position)
    for i in dict.fromkeys([*topic.clauses, *nearby]):
        e = clauses[i]
        if e is c or e.message == c.message or e.superseded or not e.facts.numbers:
            continue
        if e.position == topic.plan:
            continue
        about = bool(_residue(c.text, cues) & _residue(e.text, cues))
        bare = e.topic == c.topic and e.sender == c.sender and len(_residue(c.text, cues)) <= 1
        if not about and not bare:
            continue
        units = {_unit(c.text, n) for n in mine} - {""}
        old = [
            n
            for n in e.facts.numbers
            if n not in mine and (_unit(e.text, n) in units if units else len(e.facts.numbers) == 1)
        ]
        if not old:
            continue
        e.superseded = True
        c.was = tuple(dict.fromkeys((*c.was, *old)))
        c.was_messages = tuple(sorted({*c.was_messages, e.message}))
        topic.stale_values |= set(old)
        topic.history.add(e.position)


def _unit(text: str, value: str) -> str:
    """The word after a number in ``text`` ("45,000 dollars" -> "dollars"), or ""; a
    number inside a word ("Q3") has none and is never a corrected amount."""
    match = re.search(rf"(?<![\w.,]){re.escape(value)}(?![\w.,]\d)\s*([^\W\d_]+)?", text)
    return (match.group(1) or "").lower() if match else "\x00"


def _set_plan(topic: _Topic, c: _Clause) -> None:
    topic.plan, topic.plan_text, topic.first_text = c.position, c.text, c.text
    topic.plan_messages = {c.message}
    topic.history.add(c.position)
    _remember(topic)


def _remember(topic: _Topic) -> None:
    """Record the plan's values; those of earlier plans it no longer states are stale."""
    found = facts(topic.plan_text)
    kinds = found.kinds() & (_PLAN_KINDS | {"numbers"})
    for kind in sorted(kinds):  # in a fixed order: the first kind seen for a value wins
        for value in getattr(found, kind):
            topic.seen.setdefault(_norm(value), (kind, value))
    now = {v for vs in _values(found, kinds).values() for v in vs}
    # A value is stale once the plan states another of its kind ("12:30" retires "7pm");
    # a plan that says nothing of a kind leaves that kind's values as they were.
    topic.stale_values = {
        said for norm, (kind, said) in topic.seen.items() if kind in kinds and norm not in now
    } | {said for norm, (kind, said) in topic.seen.items() if said in topic.stale_values}


def _place_phrase(text: str, cues: Cues) -> str | None:
    """The last place ``text`` names after a place preposition, lower case included ("to
    the Thai place", "en el polideportivo", "im Freibad"): the preposition, an article or
    possessive, and up to three words, without a trailing time, date, cue or common word."""
    lead = rf"(?<![\w'\u2019])(?:{cues.sources['place_prepositions']})\s+"
    openers = f"{cues.sources['place_articles']}|{cues.sources['place_possessives']}"
    article = rf"(?:(?:{openers})\s+|l['\u2019])?"
    body = r"[^\W\d_][\w'\u2019-]*(?:\s+[^\W\d_][\w'\u2019-]*){0,2}"
    found = None
    for match in re.finditer(lead + article + body, text, re.IGNORECASE):
        phrase = match.group(0)
        while True:
            head, _, last = phrase.rpartition(" ")
            if not head or not _not_a_place(last, cues):
                break
            phrase = head
        kept = words(phrase)[1:]
        if kept and not all(_not_a_place(w, cues) for w in kept):
            found = phrase
    return found


def _not_a_place(word: str, cues: Cues) -> bool:
    lowered = word.lower()
    if lowered in cues.common_words or lowered in cues.determiners:
        return True
    kinds = ("weekdays", "months", "time_words", "corrections", "proposals", "unchanged")
    return any(cues.patterns[k].fullmatch(lowered) is not None for k in kinds)


def _move_plan(topic: _Topic, c: _Clause, cues: Cues) -> None:
    """``c`` changes the plan: fold a bare correction in, else ``c`` is the new plan."""
    old = facts(topic.plan_text)
    kinds = c.facts.kinds() & old.kinds() & (_PLAN_KINDS | {"numbers"})
    topic.history.add(c.position)
    topic.plan_messages.add(c.message)
    topic.plan = c.position
    bare = (
        "corrections" in c.cues
        and not c.cues & {"proposals", "acceptances"}
        and len(_residue(c.text, cues)) <= _BARE_WORDS
    ) or (bool(c.cues & {"proposals", "acceptances"}) and not _residue(c.text, cues, plain=True))
    merged = topic.plan_text
    replaced = False
    for kind in sorted(kinds):
        fresh = [v for v in getattr(c.facts, kind) if _norm(v) not in _values(old, kinds)[kind]]
        olds = [v for v in getattr(old, kind) if _norm(v) not in {_norm(f) for f in fresh}]
        if len(olds) == 1 and len(fresh) == 1:
            pattern = rf"(?<!\w){re.escape(olds[0])}(?!\w)"
            merged = re.sub(pattern, fresh[0].replace("\\", "\\\\"), merged, count=1)
            replaced = True
    if cues.match("unchanged", c.text):  # "in the Thai place instead, same time"
        new, old_place = _place_phrase(c.text, cues), _place_phrase(merged, cues)
        if new and old_place and _norm(new) != _norm(old_place):
            lead, _, rest = new.partition(" ")
            if lead.lower() in cues.direction_prepositions:  # "go to the X" -> "at the X"
                new = f"{old_place.partition(' ')[0]} {rest}"
            merged = merged.replace(old_place, new, 1)
            bare = replaced = True
    if bare and replaced and "question" not in c.cues:  # "Dann am Sonntag" answers "...?"
        merged = re.sub(r"\s*\?+\s*$", "", merged).lstrip("\u00bf ")
        head, _, tail = merged.rpartition(", ")
        if head and not facts(tail).count:  # "..., are you coming?" asked, now answered
            merged = head
    topic.plan_text = merged if bare and replaced else c.text
    _remember(topic)


def _moved_from(topic: _Topic, cues: Cues) -> str:
    """ "(moved from the 24th at 7pm)": the first plan's words for what no longer holds."""
    first = facts(topic.first_text)
    stale = {_norm(v) for v in topic.stale_values}
    spans = []
    for kinds, key in ((_PLAN_KINDS, "moved_from"), (frozenset({"numbers"}), "was")):
        gone = frozenset(k for k in kinds for v in getattr(first, k) if _norm(v) in stale)
        span = _span(topic.first_text, first, gone)
        if span:
            spans.append(cues.string(key, old=span))
    return f" ({'; '.join(spans)})" if spans else ""


# -- compression ----------------------------------------------------------------------------------


def _compress(text: str, cues: Cues, sender: str | None = None) -> str:
    """The clause without openers, closers, laughter and emoji; first person made third."""
    text = _LAUGHTER.sub(" ", _EMOJI.sub(" ", text))
    text = re.sub(r"\s+", " ", text).strip()
    openers = re.compile(rf"^\s*(?:{cues.sources['openers']})\s*[,:;.!\u2013-]*\s*", re.I)
    for _ in range(6):
        shorter = openers.sub("", text, count=1)
        if shorter == text or not words(shorter):
            break
        text = shorter
    end = re.search(r"[.!?]*$", text)
    stop = end.group(0) if end else ""
    body = text[: len(text) - len(stop)].rstrip(" ,;")
    closers = re.compile(rf"[\s,]*(?:{cues.sources['closers']})\s*$", re.I)
    for _ in range(3):
        shorter = closers.sub("", body)
        if shorter == body or not words(shorter):
            break
        body = shorter.rstrip(" ,;")
    spaced = text[: len(text) - len(stop)].endswith(" ") and "?" in stop
    text = body + (" ?" if spaced else "?" if "?" in stop else "")
    if sender is not None:
        text = _third_person(text, cues, sender)
    return text


def _third_person(text: str, cues: Cues, sender: str) -> str:
    """ "I'm driving, I have 3 seats" -> "Nadia is driving, has 3 seats": the opening
    first-person form gets the sender's name, a later clause's the verb alone."""
    said = _person_at(text, cues, sender)
    if said is None:
        return text
    out, rest = said
    while True:
        clause = re.search(r",\s+", rest)
        if clause is None:
            return out + rest
        tail = _person_at(rest[clause.end() :], cues, "")
        if tail is None:
            return out + rest
        out, rest = out + rest[: clause.end()] + tail[0].lstrip(), tail[1]


def _person_at(text: str, cues: Cues, sender: str) -> tuple[str, str] | None:
    """The first-person opening of ``text`` in the third person, and the rest; or None."""
    for pattern, template in cues.first_person:
        match = pattern.match(text)
        if match:
            said = match.expand(template.replace("{name}", "\x00")).replace("\x00", sender)
            return said, text[match.end() :]
    return None


def _first_person(text: str, cues: Cues) -> bool:
    return any(w.lower() in cues.first_person_words for w in words(text))


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".?!" else text + "."


def _lower_first(text: str, names: frozenset[str] = frozenset()) -> str:
    """``text`` with its first letter lowered, unless it opens "I" or one of ``names``."""
    first = text.split(maxsplit=1)[0] if text.split() else ""
    if (
        len(text) > 1
        and text[0].isupper()
        and not text[1].isupper()
        and first != "I"
        and first.rstrip(",") not in names
    ):
        return text[0].lower() + text[1:]
    return text


def _swap_words(text: str, targets: frozenset[str], name: str) -> str:
    if not targets:
        return text
    alternation = "|".join(re.escape(t) for t in sorted(targets, key=len, reverse=True))
    return re.sub(rf"(?i)(?<![\w'\u2019])(?:{alternation})(?![\w'\u2019])", lambda _: name, text)


def _extra_facts(
    task: str, sources: Sequence[_Clause], cues: Cues, *, numbers: bool = False
) -> str:
    """Times, dates and places of ``sources`` the task text lacks, each with the content
    word that names it in its sentence ("train 11:50")."""
    extras = []
    for s in sources:
        more = s.facts.numbers if numbers else ()
        for value in (*s.facts.times, *s.facts.dates, *s.facts.places, *more):
            if _norm(value) in {_norm(v) for v in facts(task).times + facts(task).dates}:
                continue
            if value.lower() in task.lower():
                continue
            before = [
                w
                for w in words(s.text[: s.text.find(value)])
                if w.lower()[:5] in _content(w, cues) and w not in (s.sender,)
            ]
            noun = before[0].lower() if before and before[0][:1].islower() else ""
            if value in s.facts.numbers:  # "25 euros": a number keeps its unit
                unit = re.match(r"\s*([^\W\d_]+)", s.text[s.text.find(value) + len(value) :])
                said = f"{value} {unit.group(1)}" if unit else value
            else:
                said = value
            extras.append(f"{noun} {said}".strip())
    return f" ({', '.join(dict.fromkeys(extras))})" if extras else ""


# -- statements -----------------------------------------------------------------------------------


def _statements(
    clauses: list[_Clause], topics: list[_Topic], cues: Cues, central: npt.NDArray[np.float32]
) -> list[Statement]:
    out: list[Statement] = []
    used: set[int] = set()
    for t, topic in enumerate(topics):
        if topic.plan is not None:
            plan = clauses[topic.plan]
            text = _compress(topic.plan_text, cues, plan.sender)
            if "question" in plan.cues:
                text = cues.string("asks", name=plan.sender, text=_lower_first(text))
            elif _first_person(text, cues):
                text = f"{plan.sender}: {text}"
            moved = _moved_from(topic, cues)
            if moved:
                text = text.rstrip("?") + moved + ("?" if "question" in plan.cues else "")
            importance = 5.0 if moved else 4.0
            if plan.cues & {"decisions", "acceptances"}:
                importance += 0.5
            messages = tuple(
                sorted(topic.plan_messages | {clauses[i].message for i in topic.history})
            )
            out.append(Statement(plan.sender, _sentence(text), messages, "plan", t, importance))
            used |= topic.history | {topic.plan}
        for i in topic.clauses:
            c = clauses[i]
            if i in used or "ack" in c.cues or c.superseded:
                continue
            if "question" in c.cues and c.resolved:
                continue  # "who can drive?" answered by "Ines drives"
            if c.message in topic.plan_messages and not c.facts.count and not c.cues:
                continue  # "Count me in." next to the plan it agrees to
            said = {_norm(v) for vs in _values(c.facts).values() for v in vs}
            if said & {_norm(v) for v in topic.stale_values} and topic.plan is not None:
                continue  # it restates a superseded plan: only "moved from" may say that
            if (
                topic.plan is not None
                and c.cues & {"proposals", "corrections"}
                and _plan_kinds(c.facts)
            ):
                continue  # part of the plan's history
            statement = _statement(c, clauses, cues, t, float(central[i]))
            if statement is not None:
                out.append(statement)
                used.add(i)
                if c.taken_by is not None:
                    used.add(c.taken_by)
                if c.answers is not None:
                    used.add(c.answers)
                used |= {  # a request asked inside a statement is a statement of its own
                    j
                    for j in topic.clauses
                    if clauses[j].message == c.message and "inside" not in clauses[j].cues
                }
    return out


def _statement(
    c: _Clause, clauses: list[_Clause], cues: Cues, topic: int, central: float
) -> Statement | None:
    if c.answers is not None or c.taken_by is not None:
        offer = clauses[c.position if c.answers is not None else c.taken_by]  # type: ignore[index]
        request = clauses[offer.answers]  # type: ignore[index]
        return _task(offer, request, clauses, cues, topic)
    text = _compress(c.text, cues, c.sender)
    if not words(text):
        return None
    own = tuple(sorted({c.message, *c.was_messages}))
    if c.was:  # "the budget is 48,000 dollars (was 45,000), ..."
        was = f" ({cues.string('was', old=', '.join(c.was))})"
        spots = [
            m.end()
            for n in c.facts.numbers
            for m in [re.search(rf"{re.escape(n)}(?:\s*[^\W\d_]+)?", text)]
            if m
        ]
        at = min(spots) if spots else len(text.rstrip("?.! "))
        text = text[:at] + was + text[at:]
    if "question" in c.cues:
        text = resolve(text, _antecedents(c, clauses), {c.sender}, cues)
        vocative = re.match(
            rf"[{_UPPER}][\w'\u2019-]*,?\s+(?:\u00bf\s*)?(?:{cues.sources['requests']})", text
        )
        asked = cues.string("asks", name=c.sender, text=text if vocative else _lower_first(text))
        siblings = [s for s in clauses if s.message == c.message and s is not c]
        extra = "" if "inside" in c.cues else _extra_facts(asked, siblings, cues, numbers=True)
        if extra:
            asked = asked.rstrip(" ?") + extra + "?"
        weight = 4.0 if "requests" in c.cues else 2.5
        messages = own
        if "inside" in c.cues and not asked.rstrip().endswith("?"):
            asked = asked.rstrip(" .!") + "?"
        return Statement(c.sender, _sentence(asked), messages, "question", topic, weight)
    if "offers" in c.cues:
        text = resolve(text, _antecedents(c, clauses), {c.sender}, cues)
        if _first_person(text, cues):
            text = f"{c.sender}: {text}"
        siblings = [
            s for s in clauses if s.message == c.message and s is not c and "ack" not in s.cues
        ]
        text = text.rstrip(".!") + _extra_facts(text, siblings, cues, numbers=True)
        return Statement(c.sender, _sentence(text), own, "task", topic, 3.5)
    if _first_person(text, cues):
        text = f"{c.sender}: {text}"
    if "decisions" in c.cues:
        return Statement(c.sender, _sentence(text), own, "decision", topic, 3.0)
    if c.facts.count:
        return Statement(c.sender, _sentence(text), own, "fact", topic, 2.0)
    return Statement(c.sender, _sentence(text), own, "context", topic, 0.5 + central)


def _clitics(text: str, rules: Sequence[tuple[re.Pattern[str], str]], name: str) -> str:
    """``text`` with the asker's pronoun before the verb replaced by their name ("je vais
    te chercher" -> "je vais chercher Léo"), by the cue file's [pattern, template] rules."""
    for pattern, template in rules:

        def fill(match: re.Match[str], template: str = template) -> str:
            return match.expand(template).replace("{name}", name)

        text = pattern.sub(fill, text)
    return text


def _antecedents(c: _Clause, clauses: list[_Clause]) -> list[str]:
    """Where a pronoun of ``c`` may point, newest first: the earlier sentences of its
    message, the request it answers, then the last clauses of other messages."""
    before = clauses[: c.position]
    same = [x.text for x in reversed(before) if x.message == c.message]
    asked = [clauses[c.answers].text] if c.answers is not None else []
    recent = [x.text for x in reversed(before[-_ANSWER_WINDOW:]) if x.message != c.message]
    return [*same, *asked, *recent]


def _who_task(asked: str, cues: Cues, taker: str) -> str | None:
    """A request that asks who does something, as the taker doing it (cue ``who_tasks``)."""
    for pattern, template in cues.who_tasks:
        match = pattern.search(asked)
        if match is not None:
            return asked[: match.start()] + template.replace("{name}", taker) + asked[match.end() :]
    return None


def _task(
    offer: _Clause, request: _Clause, clauses: list[_Clause], cues: Cues, topic: int
) -> Statement:
    """The request's task, given to the sender who took it (never to the one who asked)."""
    siblings = [c for c in clauses if c.message == request.message]
    said = _clitics(offer.text, cues.requester_clitics, request.sender)
    text = _compress(said, cues, offer.sender)
    text = _swap_words(text, cues.object_pronouns, request.sender)
    thin = len(_content(text, cues) - {offer.sender.lower()[:5], request.sender.lower()[:5]}) <= 1
    if thin or _first_person(text, cues):
        asked = _clitics(request.text, cues.asker_clitics, request.sender)
        task = _compress(asked, cues).rstrip("?").lstrip("\u00bf ")
        # Resolved while the opener still shows the pronoun's place ("kannst du sie holen").
        task = resolve(task, _antecedents(request, clauses), {offer.sender, request.sender}, cues)
        who = _who_task(task, cues, offer.sender)
        # "Tom, can you bring them?": the one asked, named before the opener, goes with it.
        vocative = rf"(?:{re.escape(offer.sender)}\s*,?\s+)?"
        opener = rf"(?i)^\s*{vocative}(?:{cues.sources['request_openers']})\s*"
        task = _swap_words(re.sub(opener, "", task).strip(), cues.object_requester, request.sender)
        if who is not None:  # "who's bringing the cake?" -> "Ben is bringing the cake"
            text = _swap_words(who, cues.object_requester, request.sender)
        elif task and not _first_person(task, cues):
            lowered = (
                task if cues.nouns_capitalised else _lower_first(task, frozenset({request.sender}))
            )
            text = cues.string("takes", name=offer.sender, task=lowered)
        elif _first_person(text, cues):
            text = f"{offer.sender}: {text}"
    text = resolve(text, _antecedents(offer, clauses), {offer.sender}, cues)
    text = text.rstrip(".!") + _extra_facts(text, siblings, cues)
    messages = tuple(sorted({offer.message, *(s.message for s in siblings)}))
    return Statement(offer.sender, _sentence(text), messages, "task", topic, 3.5)


# -- selection ------------------------------------------------------------------------------------


def _select(
    statements: list[Statement],
    budget: float,
    vectors: dict[str, npt.NDArray[np.float32]],
    cues: Cues,
    *,
    strict: bool = True,
) -> list[Statement]:
    """The statements kept, by importance, without near-duplicates (close embeddings, or
    the same sender saying the same content words again), within ``budget`` characters;
    unless ``strict`` (a short chat) only context lines count against it."""
    ranked = sorted(statements, key=lambda s: (-s.importance, s.messages))
    chosen: list[Statement] = []
    size, context = 0, 0
    for s in ranked:
        if len(chosen) >= MAX_STATEMENTS:
            break
        if s.kind == "context" and context >= _MAX_CONTEXT:
            continue
        if any(float(vectors[s.text] @ vectors[c.text]) > _DUPLICATE for c in chosen):
            continue
        if any(_repeats(s, c, cues) for c in chosen):
            continue
        cost = len(s.text) + 1
        if chosen and size + cost > budget and (strict or s.kind == "context"):
            continue
        chosen.append(s)
        size += cost
        context += s.kind == "context"
    return chosen


def _repeats(a: Statement, b: Statement, cues: Cues) -> bool:
    """The same sender, the same topic, (almost) the same content words: "I watched episode
    3 ..." after "I watched episode 2 ..." adds nothing a summary needs."""
    if a.sender != b.sender or a.topic != b.topic:
        return False
    x, y = _content(a.text, cues), _content(b.text, cues)
    return bool(x | y) and len(x & y) / len(x | y) >= _REPEAT


def _render(chosen: list[Statement]) -> str:
    """One line per topic, topics in the order of their most important statement."""
    order: dict[int, list[str]] = {}
    for s in chosen:
        order.setdefault(s.topic, []).append(s.text)
    return "\n".join(" ".join(texts) for texts in order.values())


def budget(chat: Chat) -> float:
    """The most characters a summary of ``chat``'s unread messages may have."""
    unread = chat.unread
    chars = sum(len(m.text) for m in unread)
    return (RATIO if len(unread) > SHORT_CHAT else SHORT_RATIO) * chars


def digest(chat: Chat, cues: Cues, backend: Backend) -> tuple[str, list[Statement], frozenset[str]]:
    """The summary text, its statements in order, and the superseded fact values."""
    clauses = _clauses(chat, cues)
    if not clauses:
        return "", [], frozenset()
    topics = _assign(clauses, cues)
    vectors = backend.embed([c.text for c in clauses])
    centroid = vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-9)
    central = 0.3 * (vectors @ centroid)
    statements = _statements(clauses, topics, cues, central)
    texts = list(dict.fromkeys(s.text for s in statements))
    embedded = backend.embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    long_chat = len(chat.unread) > SHORT_CHAT
    chosen = _select(
        statements, budget(chat), dict(zip(texts, embedded, strict=True)), cues, strict=long_chat
    )
    limit = budget(chat)
    text = _render(chosen)
    if len(chat.unread) > SHORT_CHAT and len(text) > limit:  # one statement over the budget
        text = text[: max(1, math.floor(limit) - 1)].rstrip() + "\u2026"
    stale = frozenset(v for t in topics for v in t.stale_values)
    ordered = [s for t in dict.fromkeys(s.topic for s in chosen) for s in chosen if s.topic == t]
    return text, ordered, stale
