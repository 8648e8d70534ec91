"""Plain-text helpers the features share: sentences, quoted replies, facts, cues.

Rules are written for English and French (the two languages the features are
tested in); other languages fall back to the language-neutral rules (digits,
capitalised names, punctuation). Nothing here logs or keeps text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+(?=\S)|\n+")
_WORD = re.compile(r"[^\W_]+(?:['\u2019-][^\W_]+)*", re.UNICODE)
_NUMBER = re.compile(r"\d+(?:[.,:h]\d+)*")
_CAPITALISED = re.compile(r"\b[A-ZÀ-ÖØ-Þ][\w'\u2019-]*", re.UNICODE)

_WEEKDAYS = (
    "monday|tuesday|wednesday|thursday|friday|saturday|sunday|"
    "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"
)
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "janvier|février|fevrier|mars|avril|mai|juin|juillet|août|aout|septembre|octobre|"
    "novembre|décembre|decembre"
)
_RELATIVE_DAYS = (
    "today|tonight|tomorrow|yesterday|this weekend|next week|"
    "aujourd'hui|aujourd\u2019hui|ce soir|demain|hier|ce week-end|la semaine prochaine"
)
_TIME = re.compile(
    r"\b\d{1,2}(?::\d{2})?\s?(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}:\d{2}\b|\b\d{1,2}h(?:\d{2})?\b|"
    r"\b(?:noon|midnight|midi|minuit)\b",
    re.IGNORECASE,
)
_DATE = re.compile(
    rf"\b(?:du\s+|from\s+)?\d{{1,2}}(?:st|nd|rd|th|er)?\s*(?:au|to|-|\u2013)\s*\d{{1,2}}"
    rf"(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b|\b(?:{_WEEKDAYS})\b|\b\d{{1,2}}(?:st|nd|rd|th|er)?\s+(?:{_MONTHS})\b|"
    rf"\b(?:{_MONTHS})\s+\d{{1,2}}(?:st|nd|rd|th)?\b|\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b|"
    rf"\b(?:{_RELATIVE_DAYS})\b",
    re.IGNORECASE,
)
_PLACE = re.compile(
    r"\b(?:at|in|to|from|à|au|aux|chez|en|devant)\s+(?:the\s+|la\s+|le\s+|l['\u2019])?"
    r"((?:[A-ZÀ-ÖØ-Þ][\w'\u2019-]*)(?:\s+(?:[A-ZÀ-ÖØ-Þ][\w'\u2019-]*|de|du|des|of|the))*"
    r"(?:\s+[A-ZÀ-ÖØ-Þ][\w'\u2019-]*)?)"
)

_CORRECTION = re.compile(
    r"\b(?:no\s+wait|wait\s+no|actually|correction|sorry,?\s+i\s+meant|i\s+meant|i\s+mean\b|"
    r"scratch\s+that|make\s+(?:it|that)|(?:we\s+)?mov(?:e|ed|ing)\s+(?:it|the\s+\w+)\s+to|"
    r"report(?:é|ée|er)|décal(?:é|ée|er)|déplac(?:é|ée|er)|not\s+\w+\s*,?\s*but\b|changed?\s+to|moved\s+to|"
    r"non\s+attends|attends\s+non|en\s+fait|pardon|je\s+voulais\s+dire|plutôt|finalement|"
    r"rectification|oubliez|oublie\s+ça|c['\u2019]est\s+(?:plutôt|finalement)|pas\s+\w+\s*,\s*mais)",
    re.IGNORECASE,
)
_DECISION = re.compile(
    r"\b(?:let['\u2019]s|we['\u2019]ll|we\s+will|decided|agreed|confirmed|booked|settled|it['\u2019]s\s+a\s+deal|"
    r"deadline|due|must|need\s+to|don['\u2019]t\s+tell|ne\s+(?:lui\s+)?dites?\s+rien|i['\u2019]m\s+on\s+it|je\s+m['\u2019]occupe|je\s+m['\u2019]en\s+charge|i['\u2019]ll|i\s+will|i\s+can|je\s+vais|j['\u2019]apporte|je\s+peux|don['\u2019]t\s+forget|remember\s+to|"
    r"on\s+part\s+sur|c['\u2019]est\s+décidé|c['\u2019]est\s+réservé|confirmé|réservé|on\s+a\s+décidé|"
    r"il\s+faut|n['\u2019]oubliez\s+pas|n['\u2019]oublie\s+pas|pensez\s+à|pense\s+à|rendez-vous|rdv)\b",
    re.IGNORECASE,
)
_READER = re.compile(
    r"\b(?:you|your|u|anyone|anybody|someone|somebody|everyone|who|can|could|would|will|"
    r"tu|toi|ton|ta|tes|vous|votre|vos|quelqu['\u2019]un|qui|est-ce|peux|pouvez|pourrais|"
    r"pourriez|veux|voulez)\b",
    re.IGNORECASE,
)
_CHITCHAT = frozenset(
    [
        "ok",
        "okay",
        "okk",
        "k",
        "kk",
        "yes",
        "yep",
        "yeah",
        "yup",
        "no",
        "nope",
        "sure",
        "cool",
        "nice",
        "great",
        "thanks",
        "thank",
        "thx",
        "ty",
        "lol",
        "haha",
        "hahaha",
        "hehe",
        "omg",
        "wow",
        "yay",
        "ah",
        "oh",
        "hmm",
        "ouais",
        "oui",
        "non",
        "merci",
        "mdr",
        "ptdr",
        "cool",
        "super",
        "top",
        "génial",
        "genial",
        "d'accord",
        "dac",
        "ok!",
        "bien",
        "vu",
        "coucou",
        "salut",
        "hello",
        "hi",
        "hey",
        "bye",
        "ciao",
        "love",
        "you",
        "too",
        "xoxo",
        "me",
        "moi",
        "aussi",
        "same",
        "all",
        "everyone",
        "everybody",
        "guys",
        "à",
        "tous",
        "bonjour",
        "bonsoir",
        "good",
        "morning",
    ]
)


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
