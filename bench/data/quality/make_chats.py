"""Compose the quality-bench chats from the hand-written scenarios (seeded, reproducible).

Each scenario gives two chats: a short one (the scenario's messages with a little neutral
filler, some of it already read) and a long one (the same messages spread through 60 to
200 filler messages). Filler states no fact, so every key point stays true of its chat.
Run: python bench/data/quality/make_chats.py  (writes chats.json next to this file).
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _compose(scenario: dict[str, Any], rng: random.Random, total: int, read: int) -> dict[str, Any]:
    filler = DATA["filler"][scenario["language"]]
    senders = sorted({s for s, _ in scenario["messages"]})
    n_filler = max(0, total - len(scenario["messages"]))
    slots = sorted(
        rng.sample(range(n_filler + len(scenario["messages"])), len(scenario["messages"]))
    )
    rows, key = [], iter(scenario["messages"])
    for i in range(n_filler + len(scenario["messages"])):
        if slots and i == slots[0]:
            slots.pop(0)
            rows.append(next(key))
        else:
            rows.append([rng.choice(senders), rng.choice(filler)])
    messages = [
        {
            "sender": s,
            "time": f"2026-11-{10 + i // 1440:02d}T{i // 60 % 24:02d}:{i % 60:02d}:00Z",
            "text": t,
            "unread": True,
        }
        for i, (s, t) in enumerate(rows)
    ]
    for _ in range(read):  # read filler before the scenario starts
        messages.insert(
            0,
            {
                "sender": senders[0],
                "time": "2026-11-09T08:00:00Z",
                "text": rng.choice(filler),
                "unread": False,
            },
        )
    return {
        "chat": scenario["title"],
        "language": scenario["language"],
        "messages": messages,
        "ai_blocked": False,
    }


def main() -> None:
    rng = random.Random(20261123)
    chats = []
    for sc in DATA["scenarios"]:
        for size, total in (
            ("short", len(sc["messages"]) + rng.randint(0, 4)),
            ("long", rng.randint(60, 200)),
        ):
            chats.append(
                {
                    "id": f"{sc['id']}-{size}",
                    "kind": sc["kind"],
                    "split": sc["split"],
                    "key_points": sc["key_points"],
                    "absent": sc["absent"],
                    "chat": _compose(sc, rng, total, read=rng.randint(0, 3)),
                }
            )
    (HERE / "chats.json").write_text(
        json.dumps({"chats": chats}, ensure_ascii=False, indent=1) + "\n"
    )
    print(f"{len(chats)} chats written")


DATA = json.loads((HERE / "scenarios.json").read_text())

if __name__ == "__main__":
    main()
