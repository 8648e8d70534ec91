"""Issue 14: the gaps the held-out set heldout14.json found, on small chats of our own
(written for these tests; the held-out chats were not read while fixing).

1. A plan first asked as a question (in French, Spanish and German as in English) is
   replaced by the later decision; a personal "I can't on Saturday" is not an offer.
2. Pronouns are resolved: "I can write them" names what, "I'll get him" whom, and the
   task goes to the sender who said it.
3. A task asked in the middle of a statement is kept.

And the gaps the second held-out set (heldout14b.json) showed, on chats of our own too:

4. A pronoun names what was needed ("we need chairs for 12 guests, Tom can you bring
   them?": the chairs, not "12 guests"), and the one asked, named before the request, is
   not repeated in the task ("Tom will tom can you ...").
5. A request that asks who does something is the taker doing it ("¿Quién lleva la
   tarta?" "Yo la llevo": "Nuria lleva la tarta").
6. A German ordinal date keeps its month ("der 27. Juni" is not a sentence end), and a
   correction changes the plan it is about (a shared word), not merely the newest one.
7. "Correction:" opening a clause is not a person a pronoun points to.

And one the third set (heldout14c.json) showed:

8. A change that names only what moved and says the rest stays ("vendredi alors, même
   heure"; cue ``unchanged``), or a German "Neue Zeit:", is folded into the plan.

And one the fourth (heldout14d.json) showed:

9. A new place with the rest unchanged ("to the Thai place instead, same time", "im
   Freibad, gleiche Zeit") replaces the plan's place, lower case included.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from privproc.workloads import summarize_unread
from privproc.workloads.cues import cues_for
from privproc.workloads.minilm import MiniLM
from privproc.workloads.referents import resolve

from ._chats import Message, chat

# -- 1. a plan asked as a question, replaced by a later decision ----------------------------------

PLAN_ASKED: dict[str, tuple[list[Message], str, str, list[str]]] = {
    # language: (messages, the final plan, its "moved from" note, superseded values)
    "en": (
        [
            ("Mum", "Dinner on Saturday at 8pm, are you coming?"),
            ("Leo", "I can't on Saturday, I work."),
            ("Mum", "Ok, lunch on Sunday at 12:30 then"),
        ],
        "Lunch on Sunday at 12:30",
        "(moved from Saturday at 8pm)",
        ["Saturday", "8pm"],
    ),
    "fr": (
        [
            ("Maman", "Dîner samedi à 20h, vous venez ?"),
            ("Léo", "Moi je ne peux pas samedi, je travaille."),
            ("Maman", "Ok, déjeuner dimanche à 12h30 alors"),
        ],
        "Déjeuner dimanche à 12h30",
        "(déplacé, avant : samedi à 20h)",
        ["samedi", "20h"],
    ),
    "es": (
        [
            ("Mamá", "¿Cena el viernes a las 21:00 en casa?"),
            ("Pablo", "No puedo el viernes, trabajo."),
            ("Mamá", "Vale, entonces el sábado"),
        ],
        "Cena el sábado a las 21:00 en casa",
        "(cambiado, antes: viernes)",
        ["viernes"],
    ),
    "de": (
        [
            ("Jonas", "Grillen am Samstag um 18 Uhr bei uns?"),
            ("Mia", "Samstag kann ich nicht."),
            ("Jonas", "Dann am Sonntag"),
        ],
        "Grillen am Sonntag um 18 Uhr bei uns",
        "(verschoben, vorher: Samstag)",
        ["Samstag"],
    ),
}


@pytest.mark.parametrize("language", sorted(PLAN_ASKED))
def test_a_plan_asked_as_a_question_is_replaced_by_the_decision(
    minilm: MiniLM, language: str
) -> None:
    messages, plan, moved, stale = PLAN_ASKED[language]
    summary = summarize_unread(chat(messages, language=language), backend=minilm)
    text = summary.text
    assert f"{plan} {moved}" in text
    rest = text.replace(moved, "")
    for value in stale:
        assert value.lower() not in rest.lower()
    first = next(p for p in summary.points if p.kind == "plan")
    assert {0, 2} <= set(first.messages)


@pytest.mark.parametrize(
    ("language", "messages", "plan", "moved"),
    [
        (
            "en",
            [
                ("Mum", "Dinner on Saturday at 8pm?"),
                ("Leo", "I can't do Saturday, I work."),
                ("Mum", "Sunday noon then?"),
                ("Leo", "Sunday works"),
                ("Mum", "Ok, lunch on Sunday at 12:30 then"),
            ],
            "Lunch on Sunday at 12:30",
            "(moved from Saturday at 8pm)",
        ),
        (
            "fr",
            [
                ("Maman", "Dîner samedi à 20h ?"),
                ("Léo", "Je peux pas samedi, je bosse."),
                ("Maman", "Et dimanche midi ?"),
                ("Léo", "Dimanche ça me va"),
                ("Maman", "Ok, déjeuner dimanche à 12h30 alors"),
            ],
            "Déjeuner dimanche à 12h30",
            "(déplacé, avant : samedi à 20h)",
        ),
        (
            "de",
            [
                ("Jonas", "Grillen am Samstag um 18 Uhr, kommt ihr?"),
                ("Mia", "Samstag kann ich nicht."),
                ("Jonas", "Gut, dann Sonntag um 17 Uhr"),
            ],
            "Grillen am Sonntag um 17 Uhr",
            "(verschoben, vorher: Samstag um 18 Uhr)",
        ),
    ],
)
def test_a_counter_proposal_in_between_still_leaves_one_final_plan(
    minilm: MiniLM, language: str, messages: list[Message], plan: str, moved: str
) -> None:
    text = summarize_unread(chat(messages, language=language), backend=minilm).text
    assert f"{plan} {moved}" in text
    assert text.count("?") == 0  # the first plan is no longer stated as an open question


@pytest.mark.parametrize(
    ("language", "refusal"),
    [
        ("fr", "Moi je ne peux pas samedi."),
        ("fr", "Je peux pas samedi."),
        ("es", "No puedo el sábado."),
        ("de", "Ich kann am Samstag nicht."),
    ],
)
def test_a_negated_offer_takes_no_task(language: str, refusal: str) -> None:
    cues = cues_for(language)
    assert cues is not None
    assert not cues.match("offers", refusal)
    assert not cues.match("decisions", refusal)


@pytest.mark.parametrize(
    ("language", "offer"),
    [
        ("fr", "Je peux les écrire."),
        ("fr", "Moi je m'en occupe."),
        ("es", "Puedo llevarte."),
        ("de", "Ich kann dich abholen."),
    ],
)
def test_an_offer_is_still_an_offer(language: str, offer: str) -> None:
    cues = cues_for(language)
    assert cues is not None
    assert cues.match("offers", offer)


def test_an_asked_plan_taken_as_a_task_stays_a_task(minilm: MiniLM) -> None:
    """A request with a time ("pick me up at 6:30?") taken by an offer is a task, not a plan."""
    messages = [
        ("Leo", "Can someone pick me up at the station at 6:30?"),
        ("Dad", "I'll get you"),
    ]
    summary = summarize_unread(chat(messages), backend=minilm)
    assert summary.text == "Dad will pick Leo up at the station at 6:30."
    assert [p.kind for p in summary.points] == ["task"]


# -- 2. pronouns ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "messages", "expected"),
    [
        (
            "en",
            [("Priya", "The release notes still need writing."), ("Omar", "I can write them")],
            "Omar can write the release notes.",
        ),
        (
            "en",
            [("Priya", "Who can write the release notes?"), ("Omar", "I can write them")],
            "Omar will write the release notes.",
        ),
        (
            "en",
            [("Mum", "Grandpa arrives at the station at 6:30."), ("Dad", "I'll get him")],
            "Dad will get Grandpa.",
        ),
        (
            "fr",
            [("Priya", "Qui peut écrire les notes ?"), ("Omar", "Je peux les écrire")],
            "Omar peut les écrire (les notes).",
        ),
        (
            "es",
            [("Lucía", "Faltan las entradas del concierto."), ("Omar", "Yo las compro")],
            "Omar las compra (las entradas).",
        ),
        (
            "de",
            [("Mama", "Opa kommt um 18:30 am Bahnhof an."), ("Papa", "Ich hole ihn ab")],
            "Papa holt Opa ab.",
        ),
    ],
)
def test_a_pronoun_names_what_it_points_to(
    minilm: MiniLM, language: str, messages: list[Message], expected: str
) -> None:
    text = summarize_unread(chat(messages, language=language), backend=minilm).text
    assert expected in text


@pytest.mark.parametrize(
    ("language", "messages", "expected", "wrong"),
    [
        (
            "fr",
            [
                ("Léo", "Quelqu'un peut venir me chercher à la gare ?"),
                ("Papa", "Je vais te chercher"),
            ],
            "Papa s'en occupe : venir chercher Léo à la gare.",
            "Léo va",
        ),
        (
            "es",
            [("Leo", "¿Alguien puede recogerme en la estación?"), ("Papá", "Yo te recojo")],
            "Papá se encarga: recoger a Leo en la estación.",
            "Leo recoge",
        ),
        (
            "de",
            [("Leo", "Kann mich jemand am Bahnhof abholen?"), ("Papa", "Ich hole dich ab")],
            "Papa übernimmt: Leo am Bahnhof abholen.",
            "Leo holt",
        ),
        (
            "en",
            [("Leo", "Can someone pick me up at the station?"), ("Dad", "I'll get you")],
            "Dad will pick Leo up at the station",
            "Leo will",
        ),
    ],
)
def test_the_task_goes_to_the_sender_who_took_it_and_names_the_asker(
    minilm: MiniLM, language: str, messages: list[Message], expected: str, wrong: str
) -> None:
    text = summarize_unread(chat(messages, language=language), backend=minilm).text
    assert expected in text
    assert wrong not in text


def test_a_pronoun_without_a_referent_is_left_alone() -> None:
    cues = cues_for("en")
    assert cues is not None
    assert resolve("Omar can write them", ["ok", "lol"], {"Omar"}, cues) == "Omar can write them"
    assert resolve("Omar can write it", [], {"Omar"}, cues) == "Omar can write it"


def test_a_person_pronoun_never_names_the_speaker() -> None:
    cues = cues_for("en")
    assert cues is not None
    got = resolve("Dad will get him", ["Dad is at the station."], {"Dad"}, cues)
    assert got == "Dad will get him"


# -- 3. a task asked inside a statement -----------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "statement", "asked", "stated"),
    [
        (
            "en",
            "We need 12 sausages for the barbecue, Tom can you get them?",
            "Priya asks: Tom can you get 12 sausages?",
            "We need 12 sausages for the barbecue.",
        ),
        (
            "fr",
            "Il nous faut 12 saucisses pour le barbecue, Tom tu peux les acheter ?",
            "Priya demande : Tom tu peux les acheter (12 saucisses) ?",
            "Il nous faut 12 saucisses pour le barbecue.",
        ),
        (
            "es",
            "Necesitamos 12 salchichas para la barbacoa, Tom, ¿puedes comprarlas?",
            "Priya pregunta: Tom, ¿puedes comprarlas (12 salchichas)?",
            "Necesitamos 12 salchichas para la barbacoa.",
        ),
        (
            "de",
            "Wir brauchen 12 Würstchen fürs Grillen, Tom kannst du sie kaufen?",
            "Priya fragt: Tom kannst du 12 Würstchen kaufen?",
            "Wir brauchen 12 Würstchen fürs Grillen.",
        ),
    ],
)
def test_a_task_asked_inside_a_statement_is_kept(
    minilm: MiniLM, language: str, statement: str, asked: str, stated: str
) -> None:
    messages: list[Message] = [("Priya", statement), ("Ana", "Ok")]
    summary = summarize_unread(chat(messages, language=language), backend=minilm)
    assert asked in summary.text
    assert stated in summary.text
    assert {p.kind for p in summary.points} >= {"question", "fact"}


def test_a_request_between_two_statements_keeps_all_three(minilm: MiniLM) -> None:
    messages: list[Message] = [
        (
            "Priya",
            "The hall is booked for Friday, can you send the invoice to Omar, and the caterer "
            "arrives at 6pm.",
        )
    ]
    text = summarize_unread(chat(messages), backend=minilm).text
    assert "Priya asks: can you send the invoice to Omar?" in text
    assert "The hall is booked for Friday." in text
    assert "The caterer arrives at 6pm." in text


def test_a_greeting_before_a_request_does_not_split_it(minilm: MiniLM) -> None:
    messages: list[Message] = [("Priya", "Hi Tom, can you send the invoice to Omar?")]
    summary = summarize_unread(chat(messages), backend=minilm)
    assert [p.kind for p in summary.points] == ["question"]


# -- 4. what was needed; the one asked named before the request -----------------------------------


@pytest.mark.parametrize(
    ("language", "messages", "expected", "never"),
    [
        (
            "en",
            [
                ("Anna", "We need chairs for 12 guests, Tom can you bring them?"),
                ("Tom", "Sure, I will"),
            ],
            "Tom will bring chairs.",
            "tom can you",
        ),
        (
            "de",
            [
                ("Ute", "Wir brauchen noch Stühle für 10 Leute, Max kannst du sie holen?"),
                ("Max", "Ja, ich hole sie"),
            ],
            "Max übernimmt: Stühle holen.",
            "max kannst du",
        ),
        (
            "es",
            [
                ("Ana", "Necesitamos sillas para 12 personas, Luis puedes traerlas?"),
                ("Luis", "Sí, las traigo yo"),
            ],
            "Luis se encarga: traerlas (sillas).",
            "luis puedes",
        ),
    ],
)
def test_a_pronoun_names_what_was_needed_and_the_one_asked_is_not_repeated(
    minilm: MiniLM, language: str, messages: list[Message], expected: str, never: str
) -> None:
    text = summarize_unread(chat(messages, language=language), backend=minilm).text
    assert expected in text
    assert never not in text.lower()


def test_a_need_after_its_subject_is_not_a_thing() -> None:
    cues = cues_for("en")
    assert cues is not None
    said = resolve("Omar can write them", ["The release notes still need writing."], set(), cues)
    assert said == "Omar can write the release notes"


# -- 5. who does it --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "messages", "expected"),
    [
        (
            "en",
            [("Jo", "Who's bringing the speakers on Friday?"), ("Kim", "Me, I'll do it")],
            "Kim is bringing the speakers on Friday.",
        ),
        (
            "fr",
            [("Paul", "Qui fait les courses pour samedi ?"), ("Léa", "Je fais les courses demain")],
            "Léa fait les courses pour samedi.",
        ),
        (
            "es",
            [("Carmen", "¿Quién lleva la tarta el sábado?"), ("Nuria", "Yo la llevo")],
            "Nuria lleva la tarta el sábado.",
        ),
        (
            "de",
            [("Ute", "Wer bucht den Tisch für Freitag?"), ("Max", "Ich mache das")],
            "Max bucht den Tisch für Freitag.",
        ),
    ],
)
def test_who_does_it_names_the_taker_doing_it(
    minilm: MiniLM, language: str, messages: list[Message], expected: str
) -> None:
    summary = summarize_unread(chat(messages, language=language), backend=minilm)
    assert summary.text == expected
    assert [(p.kind, p.sender) for p in summary.points] == [("task", messages[1][0])]


def test_who_is_in_is_not_a_task(minilm: MiniLM) -> None:
    messages = [("Eva", "Brunch on Sunday at 11am, who's in?"), ("Max", "I'll come")]
    text = summarize_unread(chat(messages), backend=minilm).text
    assert "Max is in" not in text
    assert "Sunday at 11am" in text


# -- 6. German ordinal dates; a correction changes the plan it is about ---------------------------


def test_a_german_ordinal_date_keeps_its_month(minilm: MiniLM) -> None:
    messages = [
        ("Lars", "Abgabe ist Mittwoch, der 25. Juni"),
        ("Lars", "Korrektur: Abgabe ist Freitag, der 27. Juni"),
    ]
    text = summarize_unread(chat(messages, language="de"), backend=minilm).text
    assert text == "Abgabe ist Freitag, der 27. Juni (verschoben, vorher: Mittwoch, der 25. Juni)."


def test_a_correction_changes_the_plan_it_shares_a_word_with(minilm: MiniLM) -> None:
    messages = [
        ("Frau Kern", "Die Frist für den Antrag ist Dienstag, der 10. Juni."),
        ("Frau Kern", "Ali, kannst du die Belege bis Freitag schicken?"),
        ("Ali", "Ja, ich kümmere mich darum"),
        ("Frau Kern", "Korrektur: Frist ist Donnerstag, der 12. Juni."),
    ]
    text = summarize_unread(chat(messages, language="de"), backend=minilm).text
    assert "Frist ist Donnerstag, der 12. Juni (verschoben, vorher: Dienstag, der 10. Juni)" in text
    assert "bis Freitag" in text  # the request's own date is not moved


# -- 7. a clause's opener is not a person ----------------------------------------------------------


def test_correction_is_not_a_person_a_pronoun_names() -> None:
    cues = cues_for("en")
    assert cues is not None
    said = resolve("Dad will take her", ["Correction: it's at 3:45, not 4:15"], {"Dad"}, cues)
    assert "Correction" not in said


# -- 8. "same time": a change that names only what moved (heldout14c) ----------------------------


@pytest.mark.parametrize(
    ("language", "messages", "expected"),
    [
        (
            "fr",
            [
                ("Luc", "Apéro jeudi à 19h chez Marie ?"),
                ("Marie", "Jeudi je ne peux pas, vendredi ?"),
                ("Luc", "Bon, vendredi alors, même heure"),
            ],
            "Apéro vendredi à 19h chez Marie (déplacé, avant : jeudi).",
        ),
        (
            "de",
            [("Uwe", "Training am Mittwoch um 18 Uhr"), ("Uwe", "Neue Zeit: 19 Uhr")],
            "Training am Mittwoch um 19 Uhr (verschoben, vorher: 18 Uhr).",
        ),
    ],
)
def test_a_change_naming_only_what_moved_is_folded_into_the_plan(
    minilm: MiniLM, language: str, messages: list[Message], expected: str
) -> None:
    text = summarize_unread(chat(messages, language=language), backend=minilm).text
    assert text == expected


# -- the same summary in every process ------------------------------------------------------------

_SAME_SUMMARY = """
import sys
from privproc.workloads import load_default_backend, summarize_unread
from tests.unit.workloads._chats import chat
messages = [
    ("Herr Kurz", "Das Treffen ist am Montag um 18 Uhr im Rathaus"),
    ("Eva", "Das Rathaus ist am Montag geschlossen"),
    ("Herr Kurz", "Dann treffen wir uns in der Bibliothek, gleiche Zeit"),
]
summary = summarize_unread(chat(messages, language="de"), backend=load_default_backend())
sys.stdout.write(summary.text)
"""


def test_the_summary_does_not_depend_on_the_process_hash_seed() -> None:
    """A value seen as two kinds of fact took the kind that a set's order (the hash seed)
    listed first, so the same chat could be summarized two ways in two processes."""
    root = Path(__file__).resolve().parents[3]
    texts = set()
    for seed in ("1", "3", "5"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        env["PYTHONPATH"] = os.pathsep.join([str(root / "src"), str(root)])
        done = subprocess.run(
            [sys.executable, "-c", _SAME_SUMMARY],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        texts.add(done.stdout)
    assert len(texts) == 1, texts


# -- 9. a new place, the rest unchanged (heldout14d) -----------------------------------------------


@pytest.mark.parametrize(
    ("language", "messages", "expected"),
    [
        (
            "en",
            [
                ("Ava", "Team lunch on Thursday at 12:30 at Pizza Roma"),
                ("Ben", "Pizza Roma is closed for renovation"),
                ("Ava", "Ok, let's go to the Thai place instead, same time"),
            ],
            "Team lunch on Thursday at 12:30 at the Thai place (moved from Pizza Roma).",
        ),
        (
            "de",
            [
                ("Uwe", "Training am Mittwoch um 18 Uhr in der Halle"),
                ("Uwe", "Wir trainieren stattdessen im Freibad, gleiche Zeit"),
            ],
            "Training am Mittwoch um 18 Uhr im Freibad",
        ),
    ],
)
def test_a_new_place_with_the_rest_unchanged_replaces_the_place_in_the_plan(
    minilm: MiniLM, language: str, messages: list[Message], expected: str
) -> None:
    text = summarize_unread(chat(messages, language=language), backend=minilm).text
    assert text.startswith(expected), text
