"""Proofreading on 20 hand-written drafts with typos (English and French).

Figures: share of the misspellings fixed; names and numbers changed (must be 0); time
per draft (all four tones and the proofread version). Baseline, same run: the naive use
of the same spell checker (pyspellchecker, distance 1), correcting every word it does
not know, names included; for time, the proofread version alone.
Data: bench/data/rewrite/drafts.json.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

from spellchecker import SpellChecker

from _common import Row, row
from privproc.workloads import TONES, suggest_rewrites
from privproc.workloads.rewrite import proofread

DATA = Path(__file__).resolve().parent / "data" / "rewrite" / "drafts.json"


def _naive(text: str, spell: SpellChecker) -> str:
    def fix(match: re.Match[str]) -> str:
        word = match.group(0)
        if word.lower() in spell:
            return word
        return spell.correction(word.lower()) or word

    return re.sub(r"[^\W\d_]+", fix, text)


def _score(outputs: list[str], drafts: list[dict[str, Any]]) -> tuple[float, int]:
    fixed = total = broken = 0
    for out, case in zip(outputs, drafts, strict=True):
        for wrong, right in case["fixes"].items():
            total += 1
            fixed += right.lower() in out.lower() and not re.search(
                rf"(?<!\w){re.escape(wrong)}(?!\w)", out
            )
        broken += sum(keep not in out for keep in case["keep"])
    return fixed / max(1, total), broken


def run() -> list[Row]:
    drafts = json.loads(DATA.read_text())["drafts"]
    spellers = {lang: SpellChecker(language=lang, distance=1) for lang in ("en", "fr")}
    ours = [proofread(d["draft"], d["language"]) for d in drafts]
    naive = [_naive(d["draft"], spellers[d["language"]]) for d in drafts]
    ours_rate, ours_broken = _score(ours, drafts)
    naive_rate, naive_broken = _score(naive, drafts)
    start = time.perf_counter()
    for d in drafts:
        suggest_rewrites(d["draft"], TONES, language=d["language"])
    full = (time.perf_counter() - start) / len(drafts)
    start = time.perf_counter()
    for d in drafts:
        proofread(d["draft"], d["language"])
    proof = (time.perf_counter() - start) / len(drafts)
    note = f"{len(drafts)} drafts, en+fr"
    return [
        row(
            "rewrite",
            "proofread: misspellings fixed",
            ours_rate,
            "fraction",
            "naive spell checker",
            naive_rate,
            note,
        ),
        row(
            "rewrite",
            "proofread: names/numbers changed",
            ours_broken,
            "count",
            "naive spell checker",
            naive_broken,
            "must be 0",
        ),
        row(
            "rewrite",
            "all tones + proofread",
            full,
            "s/draft",
            "proofread only",
            proof,
            "rule-based, no model",
        ),
    ]


if __name__ == "__main__":
    for r in run():
        print(r)
