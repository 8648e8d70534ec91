"""What a pronoun points back to: "Omar can write them" -> "Omar can write the release notes".

An offer or a request often names its object only by a pronoun ("I'll get him", "Tom, can
you get them?"); a summary that keeps the pronoun loses the fact. The pronoun's patterns
and the determiners a thing's name opens with come from the language's cue file
(:mod:`privproc.workloads.cues`: ``referents``, ``person_pronouns``, ``determiners``,
``referent_style``). The referent is looked for in the clauses the caller passes (newest
first: the same message, the request answered, the topic's recent clauses) and is copied
from them word for word, so nothing is invented:

- a person pronoun ("him", "lui", "ihn") names the first capitalised word of a clause
  that is not one of the ``exclude`` names (the speakers), nor a common word or a
  correction's opener ("Correction:"), else a
  determiner and the word after it opening a clause ("the plumber");
- any other pronoun ("them", "les", "sie") names what a clause says is needed ("we need
  chairs for 12 guests": ``needs``), else a determiner or a number and up to
  :data:`_MAX_WORDS` words after it, stopping before a common word or a preposition; a
  plural pronoun prefers a phrase ending in a plural-looking word.

English and German replace the pronoun (``"replace"``); French and Spanish put the
referent after the clause in parentheses (``"note"``), since their pronoun stands before
the verb. No pronoun is touched when no referent is found. Nothing here logs text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from privproc.workloads.cues import Cues
from privproc.workloads.text import words

__all__ = ["resolve"]

_MAX_WORDS = 3
_PLURAL = frozenset({"them", "les", "los", "las", "sie"})
_NAME = re.compile(r"[A-ZÀ-ÖØ-Þ][\w\u2019'-]*")


def _pronoun(text: str, cues: Cues) -> tuple[int, int, str] | None:
    match = cues.patterns["referents"].search(text)
    if match is None:
        return None
    for group in range(1, (match.lastindex or 0) + 1):
        if match.group(group):
            return match.start(group), match.end(group), match.group(group)
    return None


def _stops(cues: Cues) -> set[str]:
    return {
        *cues.common_words,
        *cues.first_person_words,
        *cues.and_words,
        *cues.person_pronouns,
        *re.findall(r"[\w']+", cues.sources["place_prepositions"].replace("\\", "")),
    }


def _person(text: str, exclude: set[str], cues: Cues) -> str | None:
    stop = _stops(cues) | cues.chitchat
    for match in _NAME.finditer(text):
        name = (
            match.group(0).rstrip("'\u2019s") if match.group(0).endswith("'s") else match.group(0)
        )
        if name.lower() in stop or name.lower() in cues.determiners or name in exclude:
            continue
        if cues.match("corrections", name):  # "Correction: ..." opens a clause, names no one
            continue
        if cues.patterns["weekdays"].fullmatch(name) or cues.patterns["months"].fullmatch(name):
            continue
        return name
    return None


def _subject(text: str, cues: Cues) -> str | None:
    """A determiner and one word opening ``text`` ("The plumber comes at 9": "The plumber")."""
    tokens = words(text)
    opens = len(tokens) >= 2 and tokens[0].lower() in cues.determiners
    if opens and tokens[1].lower() not in _stops(cues) and not tokens[1].isdigit():
        return f"{tokens[0]} {tokens[1]}"
    return None


def _thing(text: str, plural: bool, cues: Cues) -> str | None:
    stop = _stops(cues) - cues.determiners
    tokens = words(text)
    for i, token in enumerate(tokens):
        if token.lower() not in cues.determiners and not token.isdigit():
            continue
        phrase: list[str] = []
        for word in tokens[i + 1 : i + 1 + _MAX_WORDS]:
            if word.lower() in stop or word.lower() in cues.determiners or word.isdigit():
                break
            phrase.append(word)
        if plural:
            ends = [j for j, w in enumerate(phrase) if w.lower().endswith(("s", "x", "en", "er"))]
            phrase = phrase[: ends[-1] + 1] if ends else phrase[:1]
        else:
            phrase = phrase[:2]
        if phrase:
            return " ".join([token, *phrase])
    return None


def _needed(text: str, cues: Cues) -> str | None:
    """What ``text`` says a group needs ("We need chairs for 12 guests": "chairs"; cue
    ``needs``): the words after the need, up to a common word, a preposition or a number."""
    match = cues.patterns["needs"].search(text)
    if match is None:
        return None
    stop = _stops(cues) - cues.determiners
    tokens = words(text[match.end() :])
    while tokens and tokens[0].lower() in stop:  # "wir brauchen noch Stühle"
        tokens = tokens[1:]
    phrase: list[str] = []
    for i, word in enumerate(tokens[: _MAX_WORDS + 1]):
        lowered = word.lower()
        if lowered in stop or word.isdigit() or (i and lowered in cues.determiners):
            break
        phrase.append(word)
    content = [w for w in phrase if w.lower() not in cues.determiners]
    return " ".join(phrase) if content else None


def resolve(text: str, antecedents: Iterable[str], exclude: set[str], cues: Cues) -> str:
    """``text`` with its first pointing-back pronoun resolved from ``antecedents`` (newest
    first), or ``text`` unchanged when it has none or none can be found."""
    found = _pronoun(text, cues)
    if found is None:
        return text
    start, end, pronoun = found
    person = pronoun.lower() in cues.person_pronouns
    referent = None
    for antecedent in antecedents:
        if person:  # a name, else "the plumber"
            referent = _person(antecedent, exclude, cues) or _subject(antecedent, cues)
        else:  # what was needed, else a thing named with a determiner or a number
            referent = _needed(antecedent, cues) or _thing(
                antecedent, pronoun.lower() in _PLURAL, cues
            )
        if referent is not None:
            break
    if referent is None or referent.lower() in text.lower():
        return text
    if cues.referent_style == "replace":
        head, *rest = referent.split(" ", 1)
        if start > 0 and head.lower() in cues.determiners:  # "... write the release notes"
            referent = " ".join([head.lower(), *rest])
        return text[:start] + referent + text[end:]
    body = text.rstrip()
    stop = re.search(r"\s*[.!?]+$", body)
    at = stop.start() if stop else len(body)
    return f"{body[:at]} ({referent}){body[at:]}"
