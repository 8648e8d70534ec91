"""Generated sentences are checked against the messages they cite (issue 14 item 4)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from privproc.workloads.grounding import Numbered, check_generated, cited_sentences

FAMILY = [
    Numbered(1, 4, "Mom", "Who can pick Leo up at the station on Saturday? His train is at 11:50."),
    Numbered(2, 5, "Dad", "I'll get him."),
    Numbered(3, 6, "Ana", "Lunch is on the 24th at 7pm."),
    Numbered(4, 7, "Ana", "No wait, the 25th at 12:30, in Lyon."),
]
TAKERS = {5: "Dad"}
STALE = frozenset({"24th", "7pm"})


def _check(output: str, language: str = "en") -> str | None:
    return check_generated(output, FAMILY, stale=STALE, takers=TAKERS, language=language).refusal


def test_a_faithful_cited_summary_passes() -> None:
    out = (
        "- Dad will pick Leo up at the station on Saturday (train 11:50) [1, 2].\n"
        "- Lunch moved to the 25th at 12:30 in Lyon [4]."
    )
    verdict = check_generated(out, FAMILY, stale=STALE, takers=TAKERS)
    assert verdict.ok
    assert [s.cited for s in verdict.sentences] == [(1, 2), (4,)]
    assert verdict.sentences[0].text.startswith("Dad will pick Leo up")
    assert "[" not in verdict.sentences[1].text


def test_citation_after_the_full_stop_and_ranges() -> None:
    sentences = cited_sentences("Dad gets Leo. [2] Lunch is on the 25th [3-4].")
    assert [s.cited for s in sentences] == [(2,), (3, 4)]
    assert [s.text for s in sentences] == ["Dad gets Leo.", "Lunch is on the 25th."]


def test_uncited_or_unknown_citation_is_refused() -> None:
    assert _check("Dad will pick Leo up.") == "uncited"
    assert _check("Dad will pick Leo up [9].") == "uncited"
    assert _check("") == "uncited"


def test_a_name_or_number_not_in_the_cited_messages_is_refused() -> None:
    # Leo is in the chat, but not in message 2; Sam is nowhere.
    assert _check("Dad will pick Leo up [2].") == "unsupported"
    assert _check("Dad will pick Leo and Sam up [1, 2].") == "unsupported"
    assert _check("Dad will bring 3 cakes [2].") == "unsupported"


def test_when_or_where_must_come_from_the_cited_messages() -> None:
    assert _check("Dad picks him up on Sunday [1, 2].") == "when-where"
    # Lyon is in the chat, but not in the cited messages.
    assert _check("Dad will pick Leo up in Lyon [1, 2].") == "when-where"


def test_a_superseded_fact_is_refused() -> None:
    assert _check("Lunch is on the 24th [3, 4].") == "superseded"


def test_the_task_goes_to_the_one_who_took_it() -> None:
    assert _check("Mom will pick Leo up at the station [1, 2].") == "wrong-person"
    assert _check("Leo will be picked up at the station [1, 2].") == "wrong-person"
    assert _check("Mom asked, and Dad will pick Leo up [1, 2].") is None
    # Citing only the question (not the offer) does not need the taker.
    assert _check("Mom asks who can pick Leo up at the station [1].") is None


def test_wrong_person_in_french() -> None:
    given_fr = [
        Numbered(1, 0, "Maman", "Qui peut récupérer Léo à la gare ?"),
        Numbered(2, 1, "Papa", "Je m'en occupe."),
    ]
    bad = check_generated(
        "Maman va récupérer Léo [1, 2].", given_fr, takers={1: "Papa"}, language="fr"
    )
    good = check_generated(
        "Papa va récupérer Léo [1, 2].", given_fr, takers={1: "Papa"}, language="fr"
    )
    assert bad.refusal == "wrong-person"
    assert good.ok


def test_refusal_says_which_sentence() -> None:
    out = "Dad will pick Leo up [1, 2].\nLunch is on the 24th [3]."
    verdict = check_generated(out, FAMILY, stale=STALE, takers=TAKERS)
    assert (verdict.refusal, verdict.position) == ("superseded", 1)


def test_reprs_show_no_content() -> None:
    verdict = check_generated("Dad will pick Leo up [2].", FAMILY, takers=TAKERS)
    assert "Leo" not in repr(verdict)
    assert "Leo" not in repr(FAMILY[0])


@given(st.text(max_size=300))
def test_any_output_gets_a_verdict_never_an_exception(output: str) -> None:
    verdict = check_generated(output, FAMILY, stale=STALE, takers=TAKERS)
    assert verdict.ok or verdict.refusal in {
        "uncited",
        "unsupported",
        "when-where",
        "superseded",
        "wrong-person",
    }
