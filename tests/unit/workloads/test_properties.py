"""Properties: no output ever states a name or a number that its input lacks."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from privproc.workloads import TONES, suggest_rewrites, summarize_unread
from privproc.workloads.cues import cues_for
from privproc.workloads.minilm import MiniLM

from ._chats import chat

NAMES = ["Ana", "Ben", "Chloé", "Dmitri", "Émilie", "Farah", "Gustavo", "Hana"]
PLACES = ["Lyon", "the station", "Café Oz", "Grandma's", "la gare", "l'école"]
DAYS = ["Monday", "Thursday", "tomorrow", "vendredi", "demain", "12 March"]
TEMPLATES = [
    "Dinner at {place} on {day} at {n} pm.",
    "no wait, {day}",
    "Can you bring {n} chairs to {place}?",
    "{name} says the tickets cost {n} euros.",
    "On se retrouve à {place} {day} à {n}h.",
    "Tu peux appeler {name} avant {day} ?",
    "lol ok 👍",
    "> {name}: old quote {n}\nsure, {day} works",
    "The meeting with {name} moved to {day}, room {n}.",
    "Actually it's {n} people, not {m}.",
]

sentences = st.builds(
    lambda t, name, place, day, n, m: t.format(name=name, place=place, day=day, n=n, m=m),
    st.sampled_from(TEMPLATES),
    st.sampled_from(NAMES),
    st.sampled_from(PLACES),
    st.sampled_from(DAYS),
    st.integers(0, 2000),
    st.integers(0, 2000),
)
messages = st.lists(
    st.tuples(st.sampled_from(NAMES), sentences, st.booleans()), min_size=0, max_size=25
)

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def _cue_words() -> set[str]:
    """Words the summarizer itself may write: its cue files' summary strings and the
    third-person forms of their first-person rules ("I'll" -> "Ana will"), nothing else."""
    out: set[str] = set()
    for language in ("en", "fr"):
        cues = cues_for(language)
        assert cues is not None
        texts = [*cues.strings.values(), *(t for _, t in cues.first_person)]
        for text in texts:
            out |= {w.lower() for w in _WORD.findall(re.sub(r"\{\w+\}", " ", text))}
    return out


SUMMARY_WORDS = _cue_words()


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def _numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+", text))


@settings(max_examples=40)
@given(messages, st.sampled_from(["en", "fr"]))
def test_summary_words_and_numbers_all_come_from_the_chat(
    minilm: MiniLM, msgs: list[tuple[str, str, bool]], language: str
) -> None:
    c = chat(msgs, language=language)
    summary = summarize_unread(c, backend=minilm)
    source = "\n".join(f"{m.sender} {m.text}" for m in c.unread)
    assert _numbers(summary.text) <= _numbers(source)
    assert _words(summary.text) <= _words(source) | SUMMARY_WORDS
    assert len(summary.points) <= len(c.unread) * 4


def _capitalised_inside_sentences(text: str) -> set[str]:
    out = set()
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        for match in re.finditer(r"\b[A-ZÀ-ÖØ-Þ][\w'-]*", sentence):
            if sentence[: match.start()].strip() and match.group(0) not in {"I", "I'm"}:
                out.add(match.group(0).lower())
    return out


drafts = st.lists(
    st.one_of(
        st.sampled_from(NAMES),
        st.integers(0, 99999).map(str),
        st.sampled_from(
            [
                "hey",
                "i",
                "cant",
                "make",
                "it",
                "tmrw",
                "at",
                "the",
                "meetting",
                "lol",
                "can",
                "u",
                "move",
                "it",
                "pls",
                "thx",
                "just",
                "really",
                "salut",
                "en",
                "fait",
                "je",
                "pense",
                "que",
                "tkt",
                "on",
                "se",
                "voit",
                "demain",
                "à",
                "la",
                "reunion",
                "merci",
                "😅",
                "!",
                "?",
                ",",
                ".",
            ]
        ),
    ),
    min_size=0,
    max_size=30,
).map(" ".join)


@settings(max_examples=60)
@given(drafts)
def test_rewrites_name_no_one_and_no_number_absent_from_the_draft(draft: str) -> None:
    result = suggest_rewrites(draft, TONES)
    allowed = _words(draft)
    for text in [result.proofread, *(r.text for r in result.rewrites)]:
        assert _numbers(text) <= _numbers(draft)
        assert _capitalised_inside_sentences(text) <= allowed
        for name in NAMES:  # every name of the draft survives, spelled the same
            if name in draft:
                assert name in text
