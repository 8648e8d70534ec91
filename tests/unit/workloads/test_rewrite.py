"""suggest_rewrites: tones, proofreading, languages, names and numbers kept."""

from __future__ import annotations

import pytest

from privproc.errors import MisuseError
from privproc.workloads import TONES, suggest_rewrites
from privproc.workloads.rewrite import detect_language, proofread

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
