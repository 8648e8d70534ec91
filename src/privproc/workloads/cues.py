"""Each language's cues, loaded from the data files in ``workloads/lang/*.json``.

A language is added by adding a file: ``lang/xx.json`` with the keys of ``en.json``
(its ``about`` says how phrases are written). A cue file holds words and phrases, not
code: corrections ("no wait"), decisions ("let's"), acceptances ("ok ... then"),
proposals ("how about"), requests ("can you"), offers ("I'll"), questions to the reader,
time and date words, place prepositions, chit-chat, the openers and closers a compressed
statement drops, first-person forms that can be put in the third person without changing
the verb's meaning ("I'll" -> "Ana will"), and the few strings a summary writes in that
language ("moved from ...").

The files are package data (``pyproject.toml`` ``[tool.setuptools.package-data]``) and
part of a release's measured code (``attestation/measure.py`` hashes ``*.json``).
Nothing here touches message text; this module only compiles patterns.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from privproc.errors import ConfigError

__all__ = ["Cues", "all_cues", "cues_for", "languages", "rewrite_tables", "union"]

_WORD_CHARS = r"[\w'\u2019-]+"
_APOSTROPHE = "['\u2019]"


def _phrase(entry: str, lists: Mapping[str, str]) -> str:
    """One cue entry as a regular expression (see the ``about`` of ``en.json``)."""
    if entry.startswith("re:"):
        body = entry[3:]
        for key, alternation in lists.items():
            body = body.replace("{" + key + "}", alternation)
        return body
    parts = []
    for word in entry.lower().split():
        if word == "*":
            parts.append(_WORD_CHARS)
        else:
            parts.append(re.escape(word).replace("\\'", "'").replace("'", _APOSTROPHE))
    return r"(?<![\w'\u2019])" + r"\s+".join(parts) + r"(?![\w'\u2019])"


def _alternation(entries: list[str], lists: Mapping[str, str]) -> str:
    if not entries:
        return r"(?!x)x"  # matches nothing
    return "(?:" + "|".join(_phrase(e, lists) for e in entries) + ")"


def _words_alternation(words: list[str]) -> str:
    ordered = sorted({w.lower() for w in words}, key=len, reverse=True)
    return "|".join(re.escape(w).replace("\\'", "'").replace("'", _APOSTROPHE) for w in ordered)


@dataclass(frozen=True, slots=True, repr=False)
class Cues:
    """One language's compiled cues. ``sources`` keeps the raw alternations so that
    :func:`union` can combine languages."""

    language: str
    name: str
    common_words: frozenset[str]
    chitchat: frozenset[str]
    back_pointers: frozenset[str]
    first_person_words: frozenset[str]
    object_pronouns: frozenset[str]
    object_requester: frozenset[str]
    first_person: tuple[tuple[re.Pattern[str], str], ...]
    strings: Mapping[str, str]
    sources: Mapping[str, str]
    patterns: Mapping[str, re.Pattern[str]]
    #: Optional keys (see en.json's ``about``): object pronouns that point back ("them",
    #: "les"), those of them that name a person, the determiners a thing's name opens with,
    #: whether a pronoun is replaced by what it names or followed by it in parentheses,
    #: and the words that join two parts of a sentence ("and").
    person_pronouns: frozenset[str] = frozenset()
    determiners: frozenset[str] = frozenset()
    referent_style: str = "note"
    and_words: frozenset[str] = frozenset()
    requester_clitics: tuple[tuple[re.Pattern[str], str], ...] = ()
    asker_clitics: tuple[tuple[re.Pattern[str], str], ...] = ()
    #: A request that asks who does something ("who's bringing the cake?", "¿quién lleva
    #: la tarta?"): [pattern, template] pairs whose template, with {name} the one who took
    #: it, is the task ("Nuria lleva la tarta").
    who_tasks: tuple[tuple[re.Pattern[str], str], ...] = ()
    #: Nouns are written with a capital (German): a task's first word keeps its case.
    nouns_capitalised: bool = False
    #: Place prepositions of a direction ("to"): a new place keeps the plan's own one.
    direction_prepositions: frozenset[str] = frozenset()

    def __repr__(self) -> str:
        return f"Cues(language={self.language!r})"

    def match(self, kind: str, text: str) -> bool:
        """Does ``text`` carry a cue of ``kind`` (``"corrections"``, ``"offers"``...)?"""
        return self.patterns[kind].search(text) is not None

    def string(self, key: str, **values: str) -> str:
        """A summary string in this language, with ``{name}``-style fields filled."""
        return self.strings[key].format(**values)


#: Cue kinds that are lists of phrases, compiled case-insensitively.
_PHRASE_KINDS = (
    "corrections",
    "decisions",
    "acceptances",
    "proposals",
    "requests",
    "offers",
    "reader_words",
    "time_patterns",
    "date_patterns",
)
#: Optional phrase kinds: a file without them has none (matches nothing).
_OPTIONAL_PHRASE_KINDS = ("referents", "needs", "unchanged")
_REQUIRED = (
    "language",
    "name",
    "common_words",
    "weekdays",
    "months",
    "relative_days",
    "time_words",
    "place_prepositions",
    "place_articles",
    "place_joiners",
    "chitchat",
    "openers",
    "closers",
    "first_person",
    "first_person_words",
    "object_pronouns",
    "request_openers",
    "object_requester",
    "back_pointers",
    "strings",
    *_PHRASE_KINDS,
)
_STRINGS = (
    "empty",
    "moved_from",
    "was",
    "asks",
    "takes",
    "for_person",
    "corrected_by",
    "fallback",
    "more",
)


def _compile(data: dict[str, Any]) -> Cues:
    missing = [k for k in _REQUIRED if k not in data]
    if missing:
        raise ConfigError(f"cue file {data.get('language')!r}: missing {', '.join(missing)}")
    if any(k not in data["strings"] for k in _STRINGS):
        raise ConfigError(f"cue file {data['language']!r}: strings must hold {_STRINGS}")
    lists = {
        "months": _words_alternation(data["months"]),
        "weekdays": _words_alternation(data["weekdays"]),
    }
    sources = {kind: _alternation(data[kind], lists) for kind in _PHRASE_KINDS}
    for kind in _OPTIONAL_PHRASE_KINDS:
        sources[kind] = _alternation(data.get(kind, []), lists)
    if data.get("referent_style", "note") not in ("note", "replace"):
        raise ConfigError(f"cue file {data['language']!r}: referent_style is note or replace")
    sources["weekdays"] = lists["weekdays"]
    sources["months"] = lists["months"]
    sources["relative_days"] = _words_alternation(data["relative_days"])
    sources["time_words"] = _words_alternation(data["time_words"])
    sources["place_prepositions"] = _words_alternation(data["place_prepositions"])
    sources["place_articles"] = _words_alternation(data["place_articles"])
    sources["place_possessives"] = _words_alternation(data.get("place_possessives", [])) or "(?!x)x"
    sources["place_joiners"] = _words_alternation(data["place_joiners"])
    sources["openers"] = _alternation(data["openers"], lists)
    sources["closers"] = _alternation(data["closers"], lists)
    sources["request_openers"] = _alternation(data["request_openers"], lists)
    patterns = {kind: re.compile(source, re.IGNORECASE) for kind, source in sources.items()}
    first_person = tuple(
        (re.compile(_phrase(pattern, lists), re.IGNORECASE), template)
        for pattern, template in data["first_person"]
    )
    return Cues(
        language=data["language"],
        name=data["name"],
        common_words=frozenset(w.lower() for w in data["common_words"]),
        chitchat=frozenset(w.lower() for w in data["chitchat"]),
        back_pointers=frozenset(w.lower() for w in data["back_pointers"]),
        first_person_words=frozenset(w.lower() for w in data["first_person_words"]),
        object_pronouns=frozenset(w.lower() for w in data["object_pronouns"]),
        object_requester=frozenset(w.lower() for w in data["object_requester"]),
        first_person=first_person,
        strings=dict(data["strings"]),
        sources=sources,
        patterns=patterns,
        person_pronouns=frozenset(w.lower() for w in data.get("person_pronouns", [])),
        determiners=frozenset(w.lower() for w in data.get("determiners", [])),
        referent_style=data.get("referent_style", "note"),
        and_words=frozenset(w.lower() for w in data.get("and_words", [])),
        requester_clitics=tuple(
            (re.compile(_phrase(pattern, lists), re.IGNORECASE), template)
            for pattern, template in data.get("requester_clitics", [])
        ),
        asker_clitics=tuple(
            (re.compile(_phrase(pattern, lists), re.IGNORECASE), template)
            for pattern, template in data.get("asker_clitics", [])
        ),
        who_tasks=tuple(
            (re.compile(_phrase(pattern, lists), re.IGNORECASE), template)
            for pattern, template in data.get("who_tasks", [])
        ),
        nouns_capitalised=bool(data.get("nouns_capitalised", False)),
        direction_prepositions=frozenset(w.lower() for w in data.get("direction_prepositions", [])),
    )


@cache
def all_cues() -> Mapping[str, Cues]:
    """Every language with a cue file, by its primary language subtag."""
    out: dict[str, Cues] = {}
    folder = resources.files("privproc.workloads") / "lang"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        try:
            data = json.loads(entry.read_text(encoding="utf-8"))
        except ValueError:
            raise ConfigError(f"cue file is not JSON: {entry.name}") from None
        cues = _compile(data)
        if f"{cues.language}.json" != entry.name:
            raise ConfigError(f"cue file {entry.name}: language field says {cues.language!r}")
        out[cues.language] = cues
    return out


@cache
def _raw(language: str) -> Mapping[str, Any]:
    folder = resources.files("privproc.workloads") / "lang"
    entry = folder / f"{language}.json"
    if not entry.is_file():
        return {}
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
    except ValueError:
        raise ConfigError(f"cue file is not JSON: {entry.name}") from None
    return data if isinstance(data, dict) else {}


def rewrite_tables(language: str) -> Mapping[str, Any]:
    """The ``rewrite`` section of ``language``'s cue file (shorthand, slang, contractions,
    fillers, greetings, polite forms, sign-offs, strings), or {} for a language without
    one: its rewrites are then the proofread text plus what needs no words."""
    code = language.split("-", 1)[0].lower()
    if not code.isalpha():
        return {}
    section = _raw(code).get("rewrite", {})
    return section if isinstance(section, dict) else {}


def languages() -> tuple[str, ...]:
    """The languages the summarizer has rules for."""
    return tuple(all_cues())


def cues_for(language: str) -> Cues | None:
    """The cues of ``language`` (a BCP 47 tag; its primary subtag decides), or None."""
    return all_cues().get(language.split("-", 1)[0].lower())


@cache
def union(kind: str) -> str:
    """The alternation of ``kind``'s cues over every language (for language-neutral use)."""
    return "(?:" + "|".join(f"(?:{c.sources[kind]})" for c in all_cues().values()) + ")"
