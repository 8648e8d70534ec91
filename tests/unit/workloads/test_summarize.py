"""summarize_unread on fixed chats: languages, corrections, questions, sizes, emoji, quotes."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from privproc.errors import PolicyError
from privproc.workloads import Summary, summarize_unread
from privproc.workloads.minilm import MiniLM
from privproc.workloads.summarize import MAX_POINTS

from ._chats import ECOLE_FR, FAMILY_EN, chat


def test_family_chat_attributes_and_resolves_the_correction(minilm: MiniLM) -> None:
    summary = summarize_unread(chat(FAMILY_EN), backend=minilm)
    assert summary.unread == 8
    assert summary.method.startswith("extractive")
    # The correction wins: Thursday is reported, the superseded Wednesday is not.
    assert "Ana: Hi all! Dinner at Grandma's on Thursday at 7 pm." in summary.text
    assert "Wednesday" not in summary.text
    # The question to the reader is kept verbatim and attributed.
    assert "Ana: Can you pick up Grandpa at the station at 6:30?" in summary.text
    # Numbers survive verbatim; chit-chat and emoji-only messages do not.
    assert "25 euros" in summary.text
    assert "lol ok" not in summary.text
    assert "haha" not in summary.text
    assert "👍" not in summary.text
    kinds = {p.kind for p in summary.points}
    assert {"correction", "question"} <= kinds


def test_read_messages_are_not_summarized(minilm: MiniLM) -> None:
    summary = summarize_unread(chat(FAMILY_EN), backend=minilm)
    assert all(p.message >= 2 for p in summary.points)


def test_quoted_reply_is_not_repeated(minilm: MiniLM) -> None:
    summary = summarize_unread(chat(FAMILY_EN), backend=minilm)
    assert summary.text.count("I'll bring the cake") <= 1
    assert ">" not in summary.text


def test_french_chat_stays_french(minilm: MiniLM) -> None:
    summary = summarize_unread(chat(ECOLE_FR, language="fr", title="École"), backend=minilm)
    assert summary.language == "fr"
    assert "vendredi" in summary.text
    assert "jeudi à 18h" not in summary.text  # superseded by the correction
    assert "18h" in summary.text
    assert "Sophie: Est-ce que vous pouvez apporter les cahiers de vos enfants ?" in summary.text
    assert "12 euros" in summary.text
    assert "3 décembre" in summary.text
    assert "corrected" not in summary.text


def test_correction_by_another_sender_is_attributed_to_both(minilm: MiniLM) -> None:
    messages = [
        ("Tom", "The client call is on Monday at 3 pm."),
        ("Lea", "Actually it moved to Tuesday, they emailed this morning."),
        ("Tom", "Please prepare the slides with the 2026 numbers."),
    ]
    summary = summarize_unread(chat(messages, title="Work"), backend=minilm)
    assert "Monday" not in summary.text
    assert "Tuesday" in summary.text
    assert "Tom (corrected by Lea)" in summary.text or "Lea:" in summary.text


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "No unread messages."), ("fr", "Aucun message non lu.")]
)
def test_no_unread_messages(minilm: MiniLM, language: str, expected: str) -> None:
    for messages in ([], [("Ana", "old news", False)], [("Ana", "🎉")]):
        summary = summarize_unread(chat(messages, language=language), backend=minilm)
        assert summary.text == expected
        assert summary.points == ()


def test_one_message_chat_is_quoted_whole(minilm: MiniLM) -> None:
    summary = summarize_unread(
        chat([("Ana", "The plumber comes tomorrow at 9, can you let him in?")]), backend=minilm
    )
    assert summary.text == "Ana: The plumber comes tomorrow at 9, can you let him in?"


def test_emoji_in_content_are_kept(minilm: MiniLM) -> None:
    summary = summarize_unread(
        chat([("Ana", "Party at Leo's on Saturday at 8 🎉"), ("Ben", "🎉🎉")]), backend=minilm
    )
    assert summary.text == "Ana: Party at Leo's on Saturday at 8 🎉"


def test_long_chat_is_summarized_in_parts(minilm: MiniLM) -> None:
    filler = [
        ("Ben", f"I watched episode {i} of the series yesterday, it was fun.") for i in range(480)
    ]
    key = [
        ("Ana", "Decision: the trip to Lyon is booked for 14 March, 230 euros each."),
        ("Chloé", "Can you send me your passport number before Friday?"),
    ]
    messages = filler[:200] + key[:1] + filler[200:] + key[1:]
    summary = summarize_unread(chat(messages), backend=minilm)
    assert summary.unread == 482
    assert len(summary.points) <= MAX_POINTS + 4
    assert "Lyon is booked for 14 March, 230 euros each" in summary.text
    assert "Chloé: Can you send me your passport number before Friday?" in summary.text
    # Redundancy control: the 480 near-identical lines are not all reported.
    assert summary.text.count("I watched episode") < 6


def test_ai_blocked_chat_is_refused(minilm: MiniLM) -> None:
    with pytest.raises(PolicyError) as info:
        summarize_unread(chat(FAMILY_EN, ai_blocked=True), backend=minilm)
    assert info.value.check == "workloads.ai_blocked"


class _Writer:
    """A generator backend whose reply is fixed: exercises the abstractive path's checks."""

    name = "fixed"

    def __init__(self, embedder: MiniLM, reply: str) -> None:
        self._embedder = embedder
        self.reply = reply
        self.prompts: list[str] = []

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._embedder.embed(texts)

    def generate(
        self, prompt: str, *, system: str = "", max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        self.prompts.append(prompt)
        return self.reply


def test_abstractive_output_is_used_when_supported(minilm: MiniLM) -> None:
    writer = _Writer(minilm, "- Ana: dinner at Grandma's moved to Thursday, 7 pm [1, 3].")
    summary = summarize_unread(chat(FAMILY_EN), backend=writer)
    assert summary.method == "abstractive"
    assert summary.text == "- Ana: dinner at Grandma's moved to Thursday, 7 pm."
    assert "[1] Ana: Hi all!" in writer.prompts[0]  # the messages are numbered to cite
    assert "Sounds good" not in writer.prompts[0]  # read messages are not sent


def test_abstractive_output_naming_an_absent_person_is_refused(minilm: MiniLM) -> None:
    writer = _Writer(minilm, "- Ana and Marco will meet at 8 pm on Thursday [1, 3].")
    summary: Summary = summarize_unread(chat(FAMILY_EN), backend=writer)
    assert summary.method.startswith("extractive")
    assert "Marco" not in summary.text


def test_abstractive_long_chat_is_summarized_in_parts(minilm: MiniLM) -> None:
    writer = _Writer(minilm, "- Ana booked the trip [1].")
    messages = [("Ana", f"Note {i}: the trip is booked.") for i in range(90)]
    summary = summarize_unread(chat(messages), backend=writer)
    assert summary.method == "abstractive"
    assert len(writer.prompts) == 4  # three parts of at most 40 messages, then together


def test_a_change_to_another_event_does_not_erase_the_first(minilm: MiniLM) -> None:
    messages = [
        ("Claire", "La livraison du projet Atlas est prévue le 15 mars."),
        ("Claire", "On a décidé de reporter la démo client au 22 mars."),
    ]
    summary = summarize_unread(chat(messages, language="fr", title="Atlas"), backend=minilm)
    assert "15 mars" in summary.text
    assert "22 mars" in summary.text


def test_a_full_sentence_correction_replaces_the_statement(minilm: MiniLM) -> None:
    messages = [
        ("Omar", "The Q3 marketing budget is 45,000 dollars."),
        ("Grace", "Legal approved the contract with Brightside."),
        ("Omar", "Correction: the budget is 48,000 dollars, I forgot the events line."),
    ]
    summary = summarize_unread(chat(messages, title="Finance"), backend=minilm)
    assert "48,000" in summary.text
    assert "45,000" not in summary.text
    assert "Brightside" in summary.text


def test_regression_not_yet_is_not_a_correction(minilm: MiniLM) -> None:
    """Found on the held-out bench chats: "Not yet, ... Monday" rewrote a deadline."""
    messages = [
        ("Rosa", "Please submit your expense forms by 10 April."),
        ("Dev", "Is the agenda ready?"),
        ("Rosa", "Not yet, I will share it on Monday."),
    ]
    summary = summarize_unread(chat(messages, title="Design"), backend=minilm)
    assert "expense forms by 10 April" in summary.text
    assert "expense forms by Monday" not in summary.text


def test_regression_a_personal_constraint_does_not_move_the_event(minilm: MiniLM) -> None:
    """Found on the held-out bench chats: Clara's "I can only come at 16h" moved the game."""
    messages = [
        ("Bastien", "Escape game samedi à 15h à la Rue des Énigmes, 28 euros par personne."),
        ("Clara", "En fait je ne pourrai venir qu'à 16h."),
    ]
    summary = summarize_unread(chat(messages, language="fr", title="Sortie"), backend=minilm)
    assert "samedi à 15h" in summary.text
    assert "samedi à 16h" not in summary.text


def test_abstractive_output_stating_a_corrected_fact_is_refused(minilm: MiniLM) -> None:
    writer = _Writer(minilm, "- Ana: dinner at Grandma's on Wednesday at 7 pm [1].")
    summary = summarize_unread(chat(FAMILY_EN), backend=writer)
    assert summary.method == "extractive (abstractive refused: sentence 1: superseded)"
    assert "Wednesday" not in summary.text


def test_a_very_long_message_is_bounded_and_still_summarized(minilm: MiniLM) -> None:
    body = " ".join(f"Item {i} goes in box {i % 7}." for i in range(300))
    text = "Moving plan: the truck comes on Friday at 8 am. " + body
    summary = summarize_unread(chat([("Nina", text)], title="Move"), backend=minilm)
    assert "the truck comes on Friday at 8 am." in summary.text


def test_summary_as_json(minilm: MiniLM) -> None:
    summary = summarize_unread(chat(FAMILY_EN), backend=minilm)
    data = summary.to_json()
    assert data["summary"] == summary.text
    assert data["unread"] == 8
    assert data["points"][0]["sender"] == "Ana"
    assert set(data) == {"summary", "points", "language", "unread", "method"}


def test_abstractive_output_inventing_a_sender_is_refused(minilm: MiniLM) -> None:
    writer = _Writer(minilm, "Grandma: I'll bake the cake [4].")
    summary = summarize_unread(chat(FAMILY_EN), backend=writer)
    assert summary.method == "extractive (abstractive refused: names a sender who did not write)"


def test_abstractive_output_saying_something_new_is_refused(minilm: MiniLM) -> None:
    writer = _Writer(
        minilm, "Ana: Everybody should remember umbrellas because of thunderstorms [1]."
    )
    summary = summarize_unread(chat(FAMILY_EN), backend=writer)
    assert summary.method == "extractive (abstractive refused: says something the messages do not)"


def test_abstractive_output_without_citations_is_refused(minilm: MiniLM) -> None:
    writer = _Writer(minilm, "- Ana: dinner at Grandma's moved to Thursday, 7 pm.")
    summary = summarize_unread(chat(FAMILY_EN), backend=writer)
    assert summary.method == "extractive (abstractive refused: sentence 1: uncited)"


def test_abstractive_fact_from_another_message_than_cited_is_refused(minilm: MiniLM) -> None:
    # 6:30 is in the chat (message 6), not in the cited message 4.
    writer = _Writer(minilm, "- Chloé brings the cake at 6:30 [4].")
    summary = summarize_unread(chat(FAMILY_EN), backend=writer)
    assert summary.method == "extractive (abstractive refused: sentence 1: when-where)"


def test_abstractive_paraphrase_is_kept(minilm: MiniLM) -> None:
    writer = _Writer(
        minilm,
        "- Ana: dinner at Grandma's moved to Thursday, 7 pm [1, 3].\n"
        "- Chloé brings the cake (25 euros) [4].\n"
        "- Ana asks you to pick up Grandpa at the station at 6:30 [6].",
    )
    summary = summarize_unread(chat(FAMILY_EN), backend=writer)
    assert summary.method == "abstractive"
