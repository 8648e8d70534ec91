"""Fixed chats the workloads tests share (hand-written)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from privproc.workloads import Chat

#: (sender, text) or (sender, text, unread).
Message = tuple[str, str] | tuple[str, str, bool]


def chat(
    messages: Sequence[Message],
    *,
    language: str = "en",
    title: str = "Family",
    ai_blocked: bool = False,
) -> Chat:
    """A chat from (sender, text[, unread]) tuples, one minute apart, unread by default."""
    out: list[dict[str, Any]] = []
    for i, m in enumerate(messages):
        sender, text = m[0], m[1]
        unread = m[2] if len(m) > 2 else True
        out.append(
            {
                "sender": sender,
                "time": f"2026-11-20T{10 + i // 60:02d}:{i % 60:02d}:00Z",
                "text": text,
                "unread": unread,
            }
        )
    return Chat.from_json(
        {"chat": title, "language": language, "messages": out, "ai_blocked": ai_blocked}
    )


FAMILY_EN: list[Message] = [
    ("Ana", "Dinner at Grandma's on Wednesday at 7 pm, everyone.", False),
    ("Ben", "Sounds good", False),
    ("Ana", "Hi all! Dinner at Grandma's on Wednesday at 7 pm."),
    ("Ben", "lol ok"),
    ("Ana", "no wait, Thursday"),
    ("Chloé", "I'll bring the cake 🎂. It cost 25 euros."),
    ("Ben", "> I'll bring the cake\nGreat, I'll bring drinks."),
    ("Ana", "Can you pick up Grandpa at the station at 6:30?"),
    ("Ben", "haha"),
    ("Chloé", "👍"),
]

ECOLE_FR: list[Message] = [
    ("Mme Durand", "Bonjour à tous. La réunion parents-professeurs aura lieu jeudi à 18h."),
    ("Karim", "Merci !"),
    ("Mme Durand", "Pardon, c'est plutôt vendredi, la salle est prise jeudi."),
    ("Sophie", "Est-ce que vous pouvez apporter les cahiers de vos enfants ?"),
    ("Karim", "ok 👍"),
    (
        "Mme Durand",
        "La sortie au musée d'Orsay coûte 12 euros par enfant, à payer avant le 3 décembre.",
    ),
]


#: The chat of issue 14: a 13-message family chat whose plan changed twice and whose
#: task was taken by another sender than the one who asked.
FAMILY_LUNCH_EN: list[Message] = [
    ("Mum", "Hi all! Dinner on the 24th at 7pm at our place for Grandma's birthday?"),
    ("Sara", "Yes! Count me in."),
    ("Leo", "I can't do the 24th, my train only gets in on the 25th."),
    ("Dad", "Same problem for Tom, he works late on the 24th."),
    ("Mum", "How about lunch on the 25th instead?"),
    ("Sara", "Lunch works for me."),
    ("Leo", "Fine by me if it's after 12."),
    ("Mum", "Ok, lunch on the 25th at 12:30 then"),
    ("Leo", "Can someone pick me up at the station? My train arrives at 11:50."),
    ("Dad", "I'll pick you up at the station"),
    ("Sara", "I'll bring the cake 🎂"),
    ("Mum", "Great. Don't tell Grandma, it's a surprise!"),
    ("Leo", "👍"),
]
