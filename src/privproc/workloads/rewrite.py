"""Writing suggestions for a draft: a proofread version and rewrites in four tones.

The embedded default is rule-based and deterministic, so it keeps the draft's
meaning, names, numbers and language by construction: it never touches a
capitalised word inside a sentence (a name), a word with a digit, a link, a mention
or an emoji (text-speak like "b4" is replaced only as a whole token). Every word list
is data: the ``rewrite`` section of the language's cue file, ``workloads/lang/xx.json``
(:func:`privproc.workloads.cues.rewrite_tables`); a language without one gets the
proofread and the tone rules that need no words.

* **proofread**: only errors: spelling (pyspellchecker's word-frequency lists for the
  draft's language, edit distance 1, lower-case words of 3+ letters only), missing
  apostrophes ("dont", "im") and accents ("deja"), "i" -> "I", doubled words, spaces
  before punctuation (English), capitals at sentence starts, a final full stop.
  Slang and shorthand stay: they are a choice, not an error.
* **professional**: no text-speak or slang ("u", "pls", "tmrw", "gonna", "guys"),
  contractions written out, laughter and emoji removed, "!" calmed to "."; complete
  sentences (a request after a comma becomes its own sentence, a missing subject is
  restored by the file's ``sentence_fixes``); polite requests ("can you" -> "could
  you", a trailing "please" set off, a question mark); a greeting ("Hello everyone,")
  and a sign-off ("Thank you.") only where the draft had them.
* **friendly**: proofread, text-speak expanded, contractions, a greeting when there
  is none, a warm ending.
* **concise**: never longer than the proofread draft: greeting, sign-off, fillers,
  hedges, "please", laughter and emoji dropped, "I'm" dropped before a verb in -ing;
  text-speak expanded only while the result stays shorter.
* **playful**: friendly, with exclamation and an emoji that fits the topic.

A backend that can ``generate`` writes each tone instead; a rewrite that names a
person or a number the draft lacks is refused and the rule-based one returned.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from privproc.errors import MisuseError
from privproc.workloads.backend import Backend, Generator
from privproc.workloads.cues import languages, rewrite_tables
from privproc.workloads.text import names_and_numbers, words

__all__ = [
    "TONES",
    "Rewrite",
    "Rewrites",
    "detect_language",
    "preload_word_lists",
    "proofread",
    "suggest_rewrites",
]

TONES = ("professional", "friendly", "concise", "playful")
#: Longest draft accepted, in characters.
MAX_DRAFT_CHARS = 4000

_EN_HINTS = frozenset(
    [
        "the",
        "and",
        "you",
        "to",
        "is",
        "are",
        "i",
        "we",
        "it",
        "that",
        "of",
        "for",
        "in",
        "on",
        "with",
        "this",
        "be",
        "have",
    ]
)
_FR_HINTS = frozenset(
    [
        "le",
        "la",
        "les",
        "et",
        "tu",
        "vous",
        "je",
        "nous",
        "est",
        "sont",
        "de",
        "des",
        "du",
        "un",
        "une",
        "pour",
        "dans",
        "sur",
        "avec",
        "ce",
        "pas",
        "que",
    ]
)

_TOKEN = re.compile(r"\S+|\s+")
_PROTECTED = re.compile(r"https?://|www\.|@|#|\d|[^\w'\u2019.,!?;:()\"«»-]", re.UNICODE)
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f900-\U0001f9ff\ufe0f\u200d]+", re.UNICODE
)
_LAUGHTER_WORDS = r"lol|lmao|haha+|hehe+|omg|mdr|ptdr|xd"
_LAUGHTER = re.compile(rf"(?i)\s*\b(?:{_LAUGHTER_WORDS})\b")
_APOSTROPHE = "['\u2019]"
_PLAYFUL_EMOJI = (
    (r"(?i)\b(?:dinner|lunch|pizza|restaurant|eat|food|dîner|déjeuner|manger|resto)\b", "🍽️"),
    (r"(?i)\b(?:party|birthday|celebrate|anniversaire|fête|soirée)\b", "🎉"),
    (r"(?i)\b(?:sorry|désolée?|pardon)\b", "🙈"),
    (r"(?i)\b(?:late|retard|hurry|vite)\b", "🏃"),
    (r"(?i)\b(?:meet|meeting|réunion|call|appel)\b", "🙌"),
)


def _table(language: str, key: str) -> dict[str, str]:
    value = rewrite_tables(language).get(key, {})
    return {str(k).lower(): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def _list(language: str, key: str) -> list[Any]:
    value = rewrite_tables(language).get(key, [])
    return list(value) if isinstance(value, list) else []


def _string(language: str, key: str) -> str:
    strings = rewrite_tables(language).get("strings") or rewrite_tables("en").get("strings", {})
    return str(strings.get(key, "")) if isinstance(strings, dict) else ""


def _words_pattern(entries: Sequence[str]) -> str:
    ordered = sorted({e.lower() for e in entries}, key=len, reverse=True)
    return "|".join(re.escape(e).replace("\\ ", r"\s+").replace("'", _APOSTROPHE) for e in ordered)


@lru_cache(maxsize=16)
def _greeting(language: str) -> re.Pattern[str]:
    """A greeting that opens a draft: greeting word, then a group word or a name."""
    greet = _words_pattern(_list(language, "greeting_words")) or r"(?!x)x"
    group = _words_pattern(_list(language, "group_words")) or r"(?!x)x"
    return re.compile(
        rf"^(?P<greet>{greet})\b(?:\s+(?P<group>{group})\b|\s+(?!\S*://)(?P<name>(?-i:[A-ZÀ-Þ])[\w'\u2019-]*))?"
        r"(?P<stop>\s*[,!.]+)?\s*",
        re.IGNORECASE,
    )


@lru_cache(maxsize=16)
def _sign_off(language: str) -> re.Pattern[str]:
    closing = _words_pattern(_list(language, "sign_offs")) or r"(?!x)x"
    return re.compile(rf"(?i)(?:^|[\s,.;!-]+)(?:{closing})(?:\s+(?:so\s+much|a\s+lot))?[\s.!]*$")


@dataclass(frozen=True, slots=True, repr=False)
class Rewrite:
    """The draft rewritten in one tone (``repr()`` shows the text's length, not the text)."""

    tone: str
    text: str

    def __repr__(self) -> str:
        return f"Rewrite(tone={self.tone!r}, text=<{len(self.text)} chars>)"


@dataclass(frozen=True, slots=True, repr=False)
class Rewrites:
    """Suggestions for a draft: the proofread text and one rewrite per asked tone.

    ``repr()`` shows the texts' lengths, never the texts.
    """

    language: str
    proofread: str
    rewrites: tuple[Rewrite, ...]
    method: str

    def to_json(self) -> dict[str, Any]:
        """A JSON object: language, proofread text, one entry per tone, method."""
        return {
            "language": self.language,
            "proofread": self.proofread,
            "rewrites": {r.tone: r.text for r in self.rewrites},
            "method": self.method,
        }

    def __repr__(self) -> str:
        return (
            f"Rewrites(language={self.language!r}, proofread=<{len(self.proofread)} chars>, "
            f"rewrites={self.rewrites!r}, method={self.method!r})"
        )

    def get(self, tone: str) -> str:
        """The rewrite in ``tone``; MisuseError if that tone was not asked for."""
        for rewrite in self.rewrites:
            if rewrite.tone == tone:
                return rewrite.text
        raise MisuseError(f"tone not in these rewrites: {tone!r}")


def detect_language(text: str) -> str:
    """ "fr" or "en", by counting each language's commonest words (ties: "en")."""
    tokens = [w.lower() for w in words(text)]
    fr = sum(t in _FR_HINTS for t in tokens) + len(re.findall(r"[éèêàçùâîôœ]", text))
    en = sum(t in _EN_HINTS for t in tokens)
    return "fr" if fr > en else "en"


def preload_word_lists() -> None:
    """Load the proofreader's word lists, once, for the languages with rewrite rules.

    For the node's warm parent: each request runs in a fresh child, which would otherwise
    load its language's list itself (60 to 360 ms of each rewrite, bench/generative.py);
    loaded before the fork, every child shares them. Other languages' lists still load
    in the child that needs one."""
    for language in languages():
        if rewrite_tables(language):
            _speller(language)


@lru_cache(maxsize=4)
def _speller(language: str) -> Any:
    from spellchecker import SpellChecker

    try:
        return SpellChecker(language=language, distance=1)
    except ValueError:  # no word list for this language: spelling is left alone
        return None


def _case_like(source: str, word: str) -> str:
    if source[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _map_words(text: str, fn: Callable[[str, bool], str]) -> str:
    """Apply ``fn(word, at_sentence_start)`` to each unprotected word token."""
    out = []
    start = True
    for token in _TOKEN.findall(text):
        if token.isspace():
            out.append(token)
            continue
        core = token.strip('.,!?;:()"«»')
        lead = token[: token.find(core)] if core else token
        trail = token[len(lead) + len(core) :]
        if core and not _PROTECTED.search(core):
            core = fn(core, start)
        out.append(lead + core + trail)
        start = token[-1:] in ".!?" if token else start
    return "".join(out)


def proofread(text: str, language: str) -> str:
    """Only errors: spelling, missing apostrophes and accents, "i" -> "I", doubled words,
    spacing, capitals at sentence starts and a final stop. Slang, shorthand, names,
    numbers, links and mentions stay as written."""
    text = re.sub(r"[ \t]+", " ", text.strip())
    speller = _speller(language)
    apostrophes = _table(language, "missing_apostrophe")
    accents = _table(language, "missing_accent")
    informal = {**_table(language, "shorthand"), **_table(language, "slang")}

    def fix(word: str, at_start: bool) -> str:
        lower = word.lower()
        if word != lower and not at_start:
            return word  # a capitalised word inside a sentence: a name, left alone
        if lower in apostrophes:
            return _case_like(word, apostrophes[lower])
        if lower in accents:
            return _case_like(word, accents[lower])
        if language == "en" and lower == "i":
            return "I"
        if (
            speller is not None
            and word == lower  # a capitalised word may be a name: never respelled
            and lower.isalpha()
            and len(lower) >= 3
            and lower not in speller
            and lower not in informal
            and not re.fullmatch(_LAUGHTER_WORDS, lower)
        ):
            candidate = speller.correction(lower)
            if candidate and candidate != lower:
                return _case_like(word, candidate)
        return word

    text = _map_words(text, fix)
    text = re.sub(r"(?i)\b(\w+)(\s+\1\b)+", r"\1", text)
    if language != "fr":
        text = re.sub(r"\s+([,.!?;:])", r"\1", text)
    text = _capitalise_starts(text)
    if text and (text[-1].isalnum() or text[-1] in "'\u2019"):
        text += "."
    return text


def _capitalise_starts(text: str) -> str:
    """A capital at each sentence start, except on a link ("https://", "www.")."""
    return re.sub(
        r"(^|[.!?]\s+)([a-zà-ÿ])(?!\S*://)(?!ww\.)",
        lambda m: m.group(1) + m.group(2).upper(),
        text,
    )


def _expand_words(text: str, table: dict[str, str]) -> str:
    """Replace whole words (and phrases) of ``table``; protected tokens never change."""
    if not table:
        return text
    # Phrases, and shorthand with a digit or a slash ("b4", "w/"): whole tokens only, so
    # a number, a link or a mention is never touched.
    phrases = {k: v for k, v in table.items() if " " in k or not k.isalpha()}
    text = _replace_phrases(text, phrases)

    def fix(word: str, _at_start: bool) -> str:
        replacement = table.get(word.lower())
        return _case_like(word, replacement) if replacement is not None else word

    return _map_words(text, fix)


def _replace_phrases(text: str, table: dict[str, str]) -> str:
    for source, target in table.items():
        body = re.escape(source).replace("'", _APOSTROPHE).replace("\\ ", r"\s+")
        pattern = re.compile(r"(?i)(?<![\w@#/.:])" + body + r"(?![\w'\u2019/.:]\S)(?![\w'\u2019])")

        def swap(match: re.Match[str], target: str = target) -> str:
            return _case_like(match.group(0), target)

        text = pattern.sub(swap, text)
    return text


def _tidy(text: str, language: str) -> str:
    text = re.sub(r"[ \t]+", " ", text).strip()
    text = re.sub(r"\s+([,.!?;:])", r"\1", text) if language != "fr" else text
    text = re.sub(r"([,.!?])\1+", r"\1", text)
    text = re.sub(r",([.!?])", r"\1", text)
    text = re.sub(r"^[,;:.\s]+", "", text)
    return _capitalise_starts(text)


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s]


def _politely(sentence: str, language: str) -> str:
    """A request becomes a polite question: "can you" -> "could you", a trailing
    "please" set off by a comma, a question mark."""
    sentence = _replace_phrases(sentence, dict(_list(language, "polite")))
    openers = _words_pattern(_list(language, "request_openers"))
    if not openers or not re.match(rf"(?i)^(?:[^,]*,\s*)?(?:{openers})\b", sentence):
        return sentence
    body = sentence.rstrip(" .!?")
    please = _table(language, "shorthand").get("pls", "please")
    body = re.sub(rf"(?i)[\s,]+{re.escape(please)}$", f", {please}", body)
    return body + (" ?" if language == "fr" else "?")


def _questioned(sentence: str, language: str) -> str:
    """A sentence that opens with a request ("can you ...") ends with a question mark."""
    openers = _words_pattern(_list(language, "request_openers"))
    if openers and re.match(rf"(?i)^(?:[^,]*,\s*)?(?:{openers})\b", sentence):
        return sentence.rstrip(" .!?") + (" ?" if language == "fr" else "?")
    return sentence


def _professional(draft: str, language: str) -> str:
    """No slang or text-speak, complete sentences, polite requests; a greeting and a
    sign-off only where the draft has them."""
    text = _LAUGHTER.sub("", _EMOJI.sub("", draft)).strip()
    text = _expand_words(text, {**_table(language, "shorthand"), **_table(language, "slang")})
    for pattern in _list(language, "professional_drop"):
        text = re.sub(r"(?i)" + str(pattern), "", text, count=1)
    greeting = _greeting(language).match(text)
    opening = ""
    if greeting and greeting.group(0).strip():
        if greeting.group("group"):
            opening = _string(language, "greeting_group")
        elif greeting.group("name"):
            opening = f"{_string(language, 'greeting')} {greeting.group('name')}"
        else:
            opening = _string(language, "greeting")
        text = text[greeting.end() :]
    lowercase_start = text[:1].islower()
    closing = ""
    signed = _sign_off(language).search(text)
    if signed and text[: signed.start()].strip():
        closing = _string(language, "sign_off")
        text = text[: signed.start()]
    text = proofread(text, language) if text.strip() else ""
    text = _replace_phrases(text, _table(language, "expand"))
    openers = _words_pattern(_list(language, "request_openers"))
    polite = [p for _, p in _list(language, "polite")]
    if openers:  # "..., can you wait" -> "... . Could you wait"
        starts = _words_pattern([*_list(language, "request_openers"), *polite])
        text = re.sub(
            rf"(?i),\s+(?:and\s+)?(?=(?:{starts})\b)",
            ". ",
            text,
        )
        text = _tidy(text, language)
    fixes = [
        (re.compile(str(a), re.IGNORECASE), str(b)) for a, b in _list(language, "sentence_fixes")
    ]
    sentences = []
    for said in _sentences(text):
        fixed = said
        for pattern, replacement in fixes:
            fixed = pattern.sub(replacement, fixed, count=1)
        sentences.append(_politely(fixed, language))
    text = " ".join(sentences)
    text = re.sub(r"!+", ".", text)
    text = _tidy(text, language)
    if opening and text:
        first = text.split(maxsplit=1)[0]
        if lowercase_start and first not in {"I", "I'm"}:
            text = text[0].lower() + text[1:]
        text = f"{opening}, {text}"
    elif opening:
        text = f"{opening}."
    if closing:
        text = f"{text} {closing}".strip()
    return text if opening else _tidy(text, language)


def _friendly(draft: str, language: str) -> str:
    text = proofread(_expand_words(draft, _table(language, "shorthand")), language)
    contract = {v.lower(): k for k, v in _table(language, "expand").items()}
    contract = {k: v for k, v in contract.items() if v not in ("let's", "what's")}
    text = _replace_phrases(text, contract)
    if not _greeting(language).match(text):
        text = f"{_string(language, 'friendly')} {text}"
    text = re.sub(r"\.$", " !" if language == "fr" else "!", text)
    if not _EMOJI.search(text):
        text += " 🙂"
    return _tidy(text, language)


def _concise(draft: str, language: str) -> str:
    """Shorter than the draft, every fact kept: greeting, sign-off, laughter, emoji,
    fillers and "please" dropped; text-speak expanded only while it stays shorter."""
    bound = len(proofread(draft, language))
    best = ""
    for expand in (True, False):
        text = _LAUGHTER.sub("", _EMOJI.sub("", draft)).strip()
        if expand:
            text = _expand_words(text, _table(language, "shorthand"))
        greeting = _greeting(language).match(text)
        if greeting and not greeting.group("name"):
            text = text[greeting.end() :]
        elif greeting:
            text = text[greeting.start("name") :]
        signed = _sign_off(language).search(text)
        if signed and text[: signed.start()].strip():
            text = text[: signed.start()]
        text = _replace_phrases(text, _table(language, "filler_replace"))
        for pattern in [*_list(language, "fillers"), *_list(language, "concise_drop")]:
            text = re.sub(r"(?i)" + str(pattern), "", text)
        text = _tidy(proofread(_tidy(text, language), language), language)
        text = " ".join(_questioned(s, language) for s in _sentences(text))
        if text and len(text) <= bound:
            return text
        best = best or text
    return proofread(draft, language) if len(best) > bound else best


def _playful(draft: str, language: str) -> str:
    text = proofread(_expand_words(_EMOJI.sub("", draft), _table(language, "shorthand")), language)
    contract = {v.lower(): k for k, v in _table(language, "expand").items()}
    contract = {k: v for k, v in contract.items() if v not in ("let's", "what's")}
    text = _replace_phrases(text, contract)
    if not _greeting(language).match(text):
        text = f"{_string(language, 'playful')} {text}"
    text = re.sub(r"\.$", " !" if language == "fr" else "!", text)
    emoji = next((e for pattern, e in _PLAYFUL_EMOJI if re.search(pattern, text)), "😄")
    return _tidy(f"{text} {emoji}", language)


_RULES: dict[str, Callable[[str, str], str]] = {
    "professional": _professional,
    "friendly": _friendly,
    "concise": _concise,
    "playful": _playful,
}


def _supported(output: str, source: str) -> bool:
    names, numbers = names_and_numbers(output)
    source_words = {w.lower() for w in words(source)}
    _, source_numbers = names_and_numbers(source)
    return names <= source_words and numbers <= source_numbers


def _generated(backend: Generator, draft: str, tone: str, language: str) -> str | None:
    system = (
        f"Rewrite the user's message in a {tone} tone, in the same language as the message "
        f"({language}). Keep its meaning, every name and every number. Reply with the "
        "rewritten message only."
    )
    text = backend.generate(draft, system=system, max_tokens=200).strip().strip('"')
    return text if text and _supported(text, draft) else None


def suggest_rewrites(
    draft: str,
    tones: Sequence[str] = TONES,
    *,
    backend: Backend | Generator | None = None,
    language: str | None = None,
) -> Rewrites:
    """A proofread ``draft`` and one rewrite per tone in ``tones`` (from :data:`TONES`).

    ``language`` (BCP 47) defaults to a guess between English and French.
    """
    if isinstance(tones, str):
        raise MisuseError("tones is a sequence of tone names, not one string")
    unknown = [t for t in tones if t not in _RULES]
    if unknown:
        raise MisuseError(f"unknown tones {unknown!r}; known: {', '.join(TONES)}")
    if len(draft) > MAX_DRAFT_CHARS:
        raise MisuseError(f"draft longer than {MAX_DRAFT_CHARS} characters")
    lang = (language or detect_language(draft)).split("-", 1)[0].lower()
    if not draft.strip():
        return Rewrites(lang, "", tuple(Rewrite(t, "") for t in tones), "empty")
    rewrites = []
    method = "rules"
    for tone in dict.fromkeys(tones):
        text = None
        if isinstance(backend, Generator):
            text = _generated(backend, draft, tone, lang)
            method = f"generated ({backend.name}), rules where refused"
        rewrites.append(Rewrite(tone, text if text is not None else _RULES[tone](draft, lang)))
    return Rewrites(lang, proofread(draft, lang), tuple(rewrites), method)
