"""Issue 14: the generative path's summary quality with its checks on and off, same run.

Runs only when a GGUF is present: ``$PRIVPROC_BENCH_GGUF``, else the Qwen2.5-Coder-1.5B
Instruct file ``make qwen`` installs in ``.cache/qwen/`` (opt-in, never a default). The
model runs in privproc's own loopback llama.cpp server (privproc.inference.llama_server),
as a node with ``--model`` runs it.

For each chat of the set (``$PRIVPROC_BENCH_GENERATIVE_SET``: ``heldout14b`` by default,
or ``heldout14``, ``heldout14c``, ``heldout14d``), the node's summarizer is run once with
the model as its backend. The model's own last reply is recorded on the way:

- "checks off": that reply as the model wrote it (citation marks removed), shown whatever
  it says;
- "checks on": what the node answers, that is the reply if every sentence passed
  privproc.workloads.grounding's checks, else the embedded summary (``method`` says which).

Both are scored with bench/quality.py's measures on the same chats, next to the embedded
summarizer alone. The figures that matter are superseded facts, unsupported names and
numbers, and wrong-person tasks: what the checks exist to stop. ``$PRIVPROC_BENCH_GENERATIVE_CHATS``
caps the number of chats (a 1.5B model on 2 shared cores takes 20-60 s per chat).
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

from _common import Row, row
from privproc.enclave.generative import start_generative
from privproc.inference.openai_compat import OpenAICompatible
from privproc.workloads import Chat, load_default_backend, summarize_unread
from quality import HELDOUT14, HELDOUT14B, HELDOUT14C, HELDOUT14D, _evaluate, _heldout, _summarizer

ROOT = Path(__file__).resolve().parent.parent
QWEN = ROOT / ".cache" / "qwen" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
_CITATION = re.compile(r"\s*\[\s*\d[\d\s,\u2013-]*\]")


class _Recording:
    """The model as the summarizer's backend, keeping its last reply (a Generator)."""

    def __init__(self, model: OpenAICompatible) -> None:
        self._model = model
        self.name = model.name
        self.last = ""

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._model.embed(texts)

    def generate(
        self, prompt: str, *, system: str = "", max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        self.last = self._model.generate(
            prompt, system=system, max_tokens=max_tokens, temperature=temperature
        )
        return self.last


def _gguf() -> Path | None:
    given = os.environ.get("PRIVPROC_BENCH_GGUF")
    path = Path(given) if given else QWEN
    return path if path.is_file() else None


def run() -> list[Row]:
    gguf = _gguf()
    if gguf is None:
        print("quality_generative: no GGUF (make qwen, or PRIVPROC_BENCH_GGUF)", file=sys.stderr)
        return []
    chosen = os.environ.get("PRIVPROC_BENCH_GENERATIVE_SET", "heldout14b")
    sets = {"heldout14": HELDOUT14, "heldout14b": HELDOUT14B, "heldout14c": HELDOUT14C}
    sets["heldout14d"] = HELDOUT14D
    if chosen not in sets:
        print(f"quality_generative: no set {chosen!r} (one of {', '.join(sets)})", file=sys.stderr)
        return []
    cases = _heldout(sets[chosen])
    cap = os.environ.get("PRIVPROC_BENCH_GENERATIVE_CHATS")
    if cap:
        cases = cases[: int(cap)]
    embedded = load_default_backend()
    model = start_generative(model=gguf, embedder=embedded, threads=2)
    raw: dict[int, str] = {}
    methods: list[str] = []
    try:
        recorder = _Recording(model.backend)

        def checked(chat: Chat) -> str:
            recorder.last = ""
            summary = summarize_unread(chat, backend=recorder)
            methods.append(summary.method)
            raw[id(chat)] = _CITATION.sub("", recorder.last).strip()
            return summary.text

        on = _evaluate(cases, checked)
    finally:
        model.stop()
    off = _evaluate(cases, lambda c: raw[id(c)])
    alone = _evaluate(cases, _summarizer(embedded))
    kept = sum(m == "abstractive" for m in methods) / max(1, len(methods))
    note = f"{len(cases)} chats of {chosen}, {gguf.name}"
    out: list[Row] = []
    figures = (
        ("key-point recall", "recall", "fraction"),
        ("superseded facts stated", "superseded", "fraction"),
        ("unsupported names+numbers", "unsupported", "per chat"),
        ("wrong-person tasks", "wrong_person", "fraction"),
        ("compression", "compression", "summary/unread chars"),
        ("language kept", "language_kept", "fraction"),
    )
    for title, key, unit in figures:
        out.append(
            row(
                "quality",
                f"generative, checks on: {title}",
                on[key],
                unit,
                "checks off",
                off[key],
                note,
            )
        )
        out.append(
            row(
                "quality",
                f"generative, checks off: {title}",
                off[key],
                unit,
                "embedded alone",
                alone[key],
                note,
            )
        )
    out.append(
        row("quality", "generative answers kept by the checks", kept, "fraction", "all", 1.0, note)
    )
    out.append(
        row(
            "quality",
            "generative latency",
            on["latency"],
            "s/chat",
            "embedded alone",
            alone["latency"],
            note,
        )
    )
    return out


if __name__ == "__main__":
    for r in run():
        print(r)
