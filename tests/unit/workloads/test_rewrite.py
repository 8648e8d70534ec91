"""suggest_rewrites: tones, proofreading, languages, names and numbers kept."""

from __future__ import annotations

import os
import re

import pytest
import spellchecker
from hypothesis import given, settings
from hypothesis import strategies as st

from privproc.errors import MisuseError
from privproc.workloads import TONES, suggest_rewrites
from privproc.workloads.cues import rewrite_tables
from privproc.workloads.rewrite import detect_language, preload_word_lists, proofread

DRAFT_EN = (
    "hey, i just wanted to say that i cant make it tmrw at 10 lol, can u move the meetting "
    "with Priya to Friday? thx"
)
DRAFT_FR = (
    "salut Marc, en fait je pense que je serai en retard de 15 min demain, tkt on se voit a "
    "la reunion 😅"
)


def test_every_tone_and_a_proofread_version() -> None:
    result = suggest_rewrites(DRAFT_EN, TONES)
    assert [r.tone for r in result.rewrites] == list(TONES)
    assert result.language == "en"
    assert result.method == "rules"
    assert result.proofread.startswith("Hey, I just wanted to say that I can't make it")
    assert "meeting" in result.proofread
    assert "meetting" not in result.proofread


@pytest.mark.parametrize("tone", TONES)
def test_names_and_numbers_are_kept(tone: str) -> None:
    for draft in (DRAFT_EN, DRAFT_FR):
        text = suggest_rewrites(draft, [tone]).get(tone)
        for kept in ("Priya", "Friday", "10") if draft is DRAFT_EN else ("Marc", "15", "demain"):
            assert kept in text, (tone, kept)


def test_professional_drops_slang_and_laughter() -> None:
    text = suggest_rewrites(DRAFT_EN, ["professional"]).get("professional")
    assert "lol" not in text
    assert " u " not in text
    assert "tomorrow" in text
    assert "cannot" in text
    assert text.startswith("Hello")
    assert "!" not in text


def test_concise_is_shorter_and_drops_fillers() -> None:
    result = suggest_rewrites(DRAFT_EN, ["concise"])
    text = result.get("concise")
    assert len(text) < len(result.proofread)
    assert "just" not in text
    assert "wanted to say" not in text
    assert "Friday" in text


def test_friendly_and_playful_add_warmth() -> None:
    result = suggest_rewrites(
        "The report is due on 12 March. Please send it to Paul.", ["friendly", "playful"]
    )
    assert result.get("friendly").startswith("Hi!")
    assert result.get("friendly").endswith("🙂")
    assert result.get("playful").startswith("Hey!")
    assert "12 March" in result.get("playful")


def test_french_draft_stays_french() -> None:
    result = suggest_rewrites(DRAFT_FR, TONES)
    assert result.language == "fr"
    assert "réunion" in result.proofread
    assert "ne t'inquiète pas" in result.get("professional")
    assert result.get("professional").startswith("Bonjour Marc")
    assert "en fait" not in result.get("concise")
    assert result.get("friendly").startswith("Salut Marc")


def test_proofread_fixes_common_errors() -> None:
    assert (
        proofread("the the report is is ready , i think", "en") == "The report is ready, I think."
    )
    assert proofread("ca marche, a bientot", "fr") == "Ça marche, a bientôt."


def test_proofread_leaves_names_links_and_numbers_alone() -> None:
    text = "send it to Mrinalini at https://exmple.org/x before 10:30, ref X7Q"
    assert (
        proofread(text, "en")
        == "Send it to Mrinalini at https://exmple.org/x before 10:30, ref X7Q."
    )


def test_language_detection() -> None:
    assert detect_language("Est-ce que tu viens ce soir ?") == "fr"
    assert detect_language("Are you coming tonight?") == "en"


def test_empty_draft_and_misuse() -> None:
    assert suggest_rewrites("   ", ["concise"]).get("concise") == ""
    with pytest.raises(MisuseError):
        suggest_rewrites("hi", ["sarcastic"])
    with pytest.raises(MisuseError):
        suggest_rewrites("hi", "concise")
    with pytest.raises(MisuseError):
        suggest_rewrites("hi", ["concise"]).get("playful")


def test_rewrites_as_json() -> None:
    data = suggest_rewrites(DRAFT_EN, ["concise", "playful"]).to_json()
    assert set(data["rewrites"]) == {"concise", "playful"}
    assert data["language"] == "en"
    assert "Priya" in data["proofread"]


# -- issue 14 item 2: rewrites that read as the tone says -------------------------------


def test_issue_14_professional_example() -> None:
    result = suggest_rewrites("hey guys im running late tmrw, can u wait 10 min pls", TONES)
    assert result.get("professional") == (
        "Hello everyone, I am running late tomorrow. Could you wait 10 minutes, please?"
    )
    assert result.get("concise") == "Running late tomorrow, can you wait 10 min?"


def _informal_words(language: str) -> set[str]:
    tables = rewrite_tables(language)
    return {k.lower() for k in (*tables["shorthand"], *tables["slang"]) if " " not in k}


PROFESSIONAL_DRAFTS = [
    "hey guys im running late tmrw, can u wait 10 min pls",
    "yo Priya can u send me the report b4 Friday thx",
    "ok gonna call @sam at 5, see https://ex.com/a?b=1",
    "idk if we wanna go, its kinda far lol",
    "btw the meeting is moved to 3pm cuz Omar is sick",
    "Please send the invoice by Monday.",
]


@pytest.mark.parametrize("draft", PROFESSIONAL_DRAFTS)
def test_professional_has_no_text_speak_and_greets_only_if_the_draft_did(draft: str) -> None:
    text = suggest_rewrites(draft, ["professional"]).get("professional")
    tokens = {w.lower().strip(".,!?") for w in text.split()}
    tokens -= {w.lower().strip(".,!?") for w in re.findall(r"@\S+|https?://\S+", text)}
    assert not tokens & _informal_words("en"), text
    assert "lol" not in tokens
    assert "!" not in text
    greeted = re.match(r"(?i)(hey|hi|yo|hello)\b", draft) is not None
    assert text.startswith(("Hello", "Hi")) == greeted
    assert text.endswith("Thank you.") == ("thx" in draft)
    assert text[-1] in ".?"
    assert text[0].isupper()


def test_professional_requests_are_polite_questions() -> None:
    text = suggest_rewrites("can u move it to Friday", ["professional"]).get("professional")
    assert text == "Could you move it to Friday?"
    text = suggest_rewrites("hi Ana, can we meet at 4", ["professional"]).get("professional")
    assert text == "Hello Ana, could we meet at 4?"


def test_proofread_fixes_only_errors() -> None:
    # Shorthand and slang are the writer's choice: the proofread leaves them.
    assert proofread("hey guys im running late tmrw", "en") == "Hey guys I'm running late tmrw."
    correct = "The report is due on Friday at 5 pm, see https://ex.com/r."
    assert proofread(correct, "en") == correct


@settings(max_examples=40)
@given(
    st.lists(
        st.sampled_from(
            [
                "hey",
                "guys",
                "im",
                "gonna",
                "send",
                "the",
                "notes",
                "tmrw",
                "pls",
                "thx",
                "can",
                "u",
                "just",
                "really",
                "lol",
                "Priya",
                "Omar",
                "@sam",
                "#ops",
                "https://ex.com/a?b=1",
                "www.example.org",
                "b4",
                "10",
                "3pm",
                "12:30",
                "42",
                "5€",
                ",",
                ".",
                "?",
                "!",
            ]
        ),
        min_size=1,
        max_size=20,
    ).map(" ".join)
)
def test_names_numbers_links_and_mentions_never_change(draft: str) -> None:
    kept = re.findall(r"@\S+|#\S+|https?://\S+|www\.\S+|(?<!\w)\d[\d:€]*\w*|Priya|Omar", draft)
    result = suggest_rewrites(draft, TONES, language="en")
    for text in [result.proofread, *(r.text for r in result.rewrites)]:
        for item in kept:
            assert item.rstrip(".,?!") in text, (item, text)
    assert len(result.get("concise")) <= len(result.proofread)


def test_concise_is_shorter_than_the_draft_with_every_fact() -> None:
    draft = "Hi all, I just wanted to say that the demo is on 12 March at 10:30 in room 4, thanks!"
    text = suggest_rewrites(draft, ["concise"]).get("concise")
    assert len(text) < len(draft)
    for fact in ("demo", "12 March", "10:30", "room 4"):
        assert fact in text


def test_a_language_without_rewrite_tables_is_proofread_only() -> None:
    assert rewrite_tables("de") == {}
    result = suggest_rewrites("Wir treffen uns um 18 Uhr bei Anna", TONES, language="de")
    assert result.language == "de"
    for r in result.rewrites:
        assert "18 Uhr" in r.text
        assert "Anna" in r.text


def test_regression_a_name_that_is_also_a_french_filler_survives() -> None:
    """Hypothesis found "Ben Chloé" (French): the professional tone dropped "Ben" as the
    filler "ben"; the filler is dropped only in lower case, a name never changes."""
    result = suggest_rewrites("Ben Chloé", TONES)
    assert all("Ben" in r.text for r in result.rewrites)


def test_word_lists_preloaded_serve_a_forked_child_without_loading_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The node's warm parent loads them once (enclave/service.py); a request child that
    loaded its own paid 60 to 360 ms a rewrite."""
    preload_word_lists()

    def no_load(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a word list was loaded again")

    monkeypatch.setattr(spellchecker.SpellChecker, "__init__", no_load)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # as the node's request child
        try:
            fixed = proofread("I recieved teh notes", "en") + "|" + proofread("mon frere", "fr")
            os.write(write, fixed.encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as got:
        answer = got.read().decode()
    os.waitpid(pid, 0)
    assert answer == "I received the notes.|Mon frère."
