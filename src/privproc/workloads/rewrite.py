"""Writing suggestions for a draft: a proofread version and rewrites in four tones.

The embedded default is rule-based and deterministic, so it keeps the draft's
meaning, names, numbers and language by construction: it never touches a
capitalised word (a name), a word with a digit, a link, a mention or an emoji.

* **proofread**: spelling (pyspellchecker's word-frequency lists for the draft's
  language, edit distance 1, lower-case words of 3+ letters only), common
  apostrophe-less contractions ("dont"), "i" -> "I", doubled words, spaces before
  punctuation (English), capital at sentence start, a final full stop.
* **professional**: proofread, chat shorthand expanded ("pls" -> "please",
  "stp" -> "s'il te plaît"), contractions written out (English), laughter and
  emoji removed, "!" calmed to ".".
* **friendly**: proofread, contractions (English), a greeting when there is none,
  a warm ending.
* **concise**: proofread, fillers and hedges removed ("just", "I think that",
  "en fait", "du coup"), greetings and emoji dropped.
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
from privproc.workloads.text import names_and_numbers, words

__all__ = ["TONES", "Rewrite", "Rewrites", "detect_language", "proofread", "suggest_rewrites"]

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

_SHORTHAND = {
    "en": {
        "u": "you",
        "ur": "your",
        "r": "are",
        "pls": "please",
        "plz": "please",
        "thx": "thanks",
        "ty": "thank you",
        "gonna": "going to",
        "wanna": "want to",
        "gotta": "have to",
        "kinda": "somewhat",
        "yeah": "yes",
        "yep": "yes",
        "yup": "yes",
        "nope": "no",
        "btw": "by the way",
        "asap": "as soon as possible",
        "idk": "I don't know",
        "imo": "in my opinion",
        "tmrw": "tomorrow",
        "tmr": "tomorrow",
        "cuz": "because",
        "coz": "because",
        "msg": "message",
        "b4": "before",
        "w/": "with",
        "bc": "because",
    },
    "fr": {
        "stp": "s'il te plaît",
        "svp": "s'il vous plaît",
        "bcp": "beaucoup",
        "pk": "pourquoi",
        "pq": "pourquoi",
        "pcq": "parce que",
        "jsp": "je ne sais pas",
        "tkt": "ne t'inquiète pas",
        "dsl": "désolé",
        "slt": "salut",
        "bjr": "bonjour",
        "ouais": "oui",
        "auj": "aujourd'hui",
        "rdv": "rendez-vous",
        "qd": "quand",
        "tjrs": "toujours",
        "pr": "pour",
        "vrmt": "vraiment",
        "mtn": "maintenant",
        "qqn": "quelqu'un",
        "qqch": "quelque chose",
        "ds": "dans",
    },
}
_LAUGHTER_WORDS = r"lol|lmao|haha+|hehe+|omg|mdr|ptdr|xd"
_LAUGHTER = re.compile(rf"(?i)\s*\b(?:{_LAUGHTER_WORDS})\b")
_MISSING_APOSTROPHE = {
    "dont": "don't",
    "cant": "can't",
    "wont": "won't",
    "didnt": "didn't",
    "doesnt": "doesn't",
    "isnt": "isn't",
    "arent": "aren't",
    "wasnt": "wasn't",
    "couldnt": "couldn't",
    "shouldnt": "shouldn't",
    "wouldnt": "wouldn't",
    "im": "I'm",
    "ive": "I've",
    "id": "I'd",
    "thats": "that's",
    "whats": "what's",
    "lets": "let's",
    "theyre": "they're",
}
_MISSING_ACCENT = {
    "ca": "ça",
    "deja": "déjà",
    "tres": "très",
    "apres": "après",
    "voila": "voilà",
    "bientot": "bientôt",
    "reunion": "réunion",
    "etre": "être",
    "meme": "même",
}
_EXPAND = {
    "don't": "do not",
    "can't": "cannot",
    "won't": "will not",
    "didn't": "did not",
    "doesn't": "does not",
    "isn't": "is not",
    "aren't": "are not",
    "wasn't": "was not",
    "couldn't": "could not",
    "shouldn't": "should not",
    "wouldn't": "would not",
    "i'm": "I am",
    "i've": "I have",
    "i'll": "I will",
    "i'd": "I would",
    "it's": "it is",
    "that's": "that is",
    "we're": "we are",
    "we'll": "we will",
    "you're": "you are",
    "you'll": "you will",
    "they're": "they are",
    "there's": "there is",
    "let's": "let us",
    "what's": "what is",
}
_CONTRACT = {v.lower(): k for k, v in _EXPAND.items() if k not in ("let's", "what's")}
_FILLERS = {
    "en": (
        r"\bi was wondering if you could\b",
        r"\bi (?:just )?wanted to (?:say|tell you) that\b",
        r"\bi think that\b",
        r"\bi think\b",
        r"\bi guess\b",
        r"\bjust\b",
        r"\breally\b",
        r"\bactually\b",
        r"\bbasically\b",
        r"\bliterally\b",
        r"\bvery\b",
        r"\bkind of\b",
        r"\bsort of\b",
        r"\ba little bit\b",
        r"\byou know,?",
        r"\bto be honest,?",
        r"\bplease note that\b",
        r"\bin order to\b",
    ),
    "fr": (
        r"\ben fait,?",
        r"\bdu coup,?",
        r"\bgenre,?",
        r"\bfranchement,?",
        r"\bvraiment\b",
        r"\bjuste\b",
        r"\bun peu\b",
        r"\bje pense que\b",
        r"\bje crois que\b",
        r"\bbon,",
        r"\bbref,?",
        r"\bhonnêtement,?",
    ),
}
_FILLER_REPLACE = {"en": {"i was wondering if you could": "could you", "in order to": "to"}}
_GREETING = re.compile(
    r"^(?:hi|hey|hello|hiya|yo|dear \w+|salut|coucou|bonjour|bonsoir|cc|slt|bjr)\b[\s,!.]*",
    re.IGNORECASE,
)
_GREETINGS = {"en": ("Hi!", "Hey!"), "fr": ("Coucou !", "Hé !")}
_PLAYFUL_EMOJI = (
    (r"(?i)\b(?:dinner|lunch|pizza|restaurant|eat|food|dîner|déjeuner|manger|resto)\b", "🍽️"),
    (r"(?i)\b(?:party|birthday|celebrate|anniversaire|fête|soirée)\b", "🎉"),
    (r"(?i)\b(?:sorry|désolée?|pardon)\b", "🙈"),
    (r"(?i)\b(?:late|retard|hurry|vite)\b", "🏃"),
    (r"(?i)\b(?:meet|meeting|réunion|call|appel)\b", "🙌"),
)


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
    """Spelling, contractions, doubled words, spacing, capitals and a final stop."""
    text = re.sub(r"[ \t]+", " ", text.strip())
    speller = _speller(language)

    def fix(word: str, at_start: bool) -> str:
        lower = word.lower()
        if word != lower and not at_start:
            return word  # a capitalised word inside a sentence: a name, left alone
        if language == "en" and lower in _MISSING_APOSTROPHE:
            return _case_like(word, _MISSING_APOSTROPHE[lower])
        if language == "fr" and lower in _MISSING_ACCENT:
            return _case_like(word, _MISSING_ACCENT[lower])
        if language == "en" and lower == "i":
            return "I"
        if (
            speller is not None
            and word == lower  # a capitalised word may be a name: never respelled
            and lower.isalpha()
            and len(lower) >= 3
            and lower not in speller
            and lower not in _SHORTHAND.get(language, {})
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
    text = re.sub(r"(^|[.!?]\s+)([a-zà-ÿ])", lambda m: m.group(1) + m.group(2).upper(), text)
    if text and (text[-1].isalnum() or text[-1] in "'\u2019"):
        text += "."
    return text


def _expand_shorthand(text: str, language: str) -> str:
    table = _SHORTHAND.get(language, {})

    def fix(word: str, _at_start: bool) -> str:
        replacement = table.get(word.lower())
        return _case_like(word, replacement) if replacement else word

    return _map_words(text, fix)


def _replace_phrases(text: str, table: dict[str, str]) -> str:
    for source, target in table.items():
        pattern = re.compile(r"(?i)\b" + re.escape(source).replace("'", "['\u2019]") + r"\b")

        def swap(match: re.Match[str], target: str = target) -> str:
            return _case_like(match.group(0), target)

        text = pattern.sub(swap, text)
    return text


def _tidy(text: str, language: str) -> str:
    text = re.sub(r"[ \t]+", " ", text).strip()
    text = re.sub(r"\s+([,.!?;:])", r"\1", text) if language != "fr" else text
    text = re.sub(r"([,.!?])\1+", r"\1", text)
    text = re.sub(r"^[,;:\s]+", "", text)
    return re.sub(r"(^|[.!?]\s+)([a-zà-ÿ])", lambda m: m.group(1) + m.group(2).upper(), text)


def _professional(draft: str, language: str) -> str:
    text = _LAUGHTER.sub("", _EMOJI.sub("", draft))
    text = _expand_shorthand(text, language)
    text = proofread(text, language)
    if language == "en":
        text = _replace_phrases(text, _EXPAND)
        text = re.sub(r"^(?:hey|hi)\b", "Hello", text, flags=re.IGNORECASE)
    else:
        text = re.sub(r"(?i)^(?:salut|coucou|slt|cc)\b", "Bonjour", text)
    text = re.sub(r"!+", ".", text)
    return _tidy(text, language)


def _friendly(draft: str, language: str) -> str:
    text = proofread(_expand_shorthand(draft, language), language)
    if language == "en":
        text = _replace_phrases(text, _CONTRACT)
    if not _GREETING.match(text):
        text = f"{_GREETINGS.get(language, _GREETINGS['en'])[0]} {text}"
    text = re.sub(r"\.$", " !" if language == "fr" else "!", text)
    if not _EMOJI.search(text):
        text += " 🙂"
    return _tidy(text, language)


def _concise(draft: str, language: str) -> str:
    text = _LAUGHTER.sub("", _EMOJI.sub("", draft))
    text = _expand_shorthand(text, language)
    text = _GREETING.sub("", text.strip())
    text = _replace_phrases(text, _FILLER_REPLACE.get(language, {}))
    for filler in _FILLERS.get(language, ()):
        text = re.sub(r"(?i)" + filler, "", text)
    text = proofread(_tidy(text, language), language)
    return _tidy(text, language)


def _playful(draft: str, language: str) -> str:
    text = proofread(_expand_shorthand(_EMOJI.sub("", draft), language), language)
    if language == "en":
        text = _replace_phrases(text, _CONTRACT)
    if not _GREETING.match(text):
        text = f"{_GREETINGS.get(language, _GREETINGS['en'])[1]} {text}"
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
