"""stream_unread: a model's summary shown line by line as it is written, each line once it
passed its checks; a refused line withdraws what was shown and the embedded summary follows."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import numpy.typing as npt
import pytest

from privproc.errors import PolicyError
from privproc.workloads import Summary, Withdrawn, stream_unread, summarize_unread
from privproc.workloads.minilm import MiniLM

from ._chats import FAMILY_EN, chat

GOOD = "- Ana: dinner at Grandma's moved to Thursday, 7 pm [1, 3].\n"
CAKE = "- Chloé brings the cake (25 euros) [4].\n"
ABSENT = "- Ana and Marco will meet at 8 pm on Thursday [1, 3].\n"


class _StreamingWriter:
    """A backend that streams a fixed reply token by token and records how far it got,
    so a test can tell what was written before each line came out."""

    name = "streaming"

    def __init__(self, embedder: MiniLM, reply: str) -> None:
        self._embedder = embedder
        self.pieces = [p for p in reply.replace("\n", " \n").split(" ") if p]
        self.written = 0
        self.closed = False
        self.generated = 0

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self._embedder.embed(texts)

    def generate(
        self, prompt: str, *, system: str = "", max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        self.generated += 1
        return " ".join(self.pieces).replace(" \n", "\n")

    def stream(
        self, prompt: str, *, system: str = "", max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        try:
            for index, piece in enumerate(self.pieces):
                self.written = index + 1
                yield piece if piece.startswith("\n") or index == 0 else " " + piece
        finally:
            self.closed = True


def _lines(items: list[str | Withdrawn | Summary]) -> list[str]:
    return [i for i in items if isinstance(i, str)]


def test_each_line_comes_out_before_the_model_writes_the_next(minilm: MiniLM) -> None:
    writer = _StreamingWriter(minilm, GOOD + CAKE)
    items = stream_unread(chat(FAMILY_EN), backend=writer)
    first = next(items)
    assert first == "- Ana: dinner at Grandma's moved to Thursday, 7 pm."
    assert writer.written < len(writer.pieces)  # the second line is not written yet
    rest = list(items)
    summary = rest[-1]
    assert isinstance(summary, Summary)
    assert summary.method == "abstractive"
    assert summary.text == "\n".join([first, *_lines(rest)])
    assert summary.text.endswith("- Chloé brings the cake (25 euros).")
    assert writer.generated == 0  # one streamed reply, not a second whole one


def test_the_streamed_summary_is_the_whole_summary(minilm: MiniLM) -> None:
    streamed = list(stream_unread(chat(FAMILY_EN), backend=_StreamingWriter(minilm, GOOD + CAKE)))
    whole = summarize_unread(chat(FAMILY_EN), backend=_StreamingWriter(minilm, GOOD + CAKE))
    assert streamed[-1] == whole


def test_a_refused_later_line_withdraws_the_shown_and_the_embedded_summary_follows(
    minilm: MiniLM,
) -> None:
    writer = _StreamingWriter(minilm, GOOD + ABSENT + CAKE)
    items = list(stream_unread(chat(FAMILY_EN), backend=writer))
    withdrawn = [i for i in items if isinstance(i, Withdrawn)]
    assert withdrawn == [Withdrawn(1, "sentence 2: when-where")]
    summary = items[-1]
    assert isinstance(summary, Summary)
    assert summary.method == "extractive (abstractive refused: sentence 2: when-where)"
    after = _lines(items[items.index(withdrawn[0]) + 1 :])
    assert "\n".join(after) == summary.text
    assert not any("Marco" in line for line in _lines(items))  # the refused line never shown
    assert writer.closed  # the model was stopped
    assert writer.written < len(writer.pieces)


def test_a_first_line_refused_withdraws_nothing(minilm: MiniLM) -> None:
    items = list(stream_unread(chat(FAMILY_EN), backend=_StreamingWriter(minilm, ABSENT + GOOD)))
    assert not any(isinstance(i, Withdrawn) for i in items)
    summary = items[-1]
    assert isinstance(summary, Summary)
    assert summary.method.startswith("extractive (abstractive refused: sentence 1")
    assert "\n".join(_lines(items)) == summary.text


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("   \n\n", "empty reply"),
        ("- Ana says hello\n", "sentence 1: uncited"),
        ("...", "sentence 1: uncited"),
    ],
)
def test_an_empty_or_uncited_stream_falls_back(minilm: MiniLM, reply: str, why: str) -> None:
    summary = list(stream_unread(chat(FAMILY_EN), backend=_StreamingWriter(minilm, reply)))[-1]
    assert isinstance(summary, Summary)
    assert summary.method.startswith("extractive (abstractive refused: ")
    assert why in summary.method


def test_the_embedded_summary_streams_its_lines(minilm: MiniLM) -> None:
    items = list(stream_unread(chat(FAMILY_EN), backend=minilm))
    summary = items[-1]
    assert isinstance(summary, Summary)
    assert summary == summarize_unread(chat(FAMILY_EN), backend=minilm)
    assert "\n".join(_lines(items)) == summary.text


def test_no_unread_streams_the_empty_line(minilm: MiniLM) -> None:
    items = list(stream_unread(chat([("Ana", "hi", False)]), backend=minilm))
    assert isinstance(items[-1], Summary)
    assert items[-1].method == "empty"
    assert _lines(items) == [items[-1].text]


def test_ai_blocked_is_refused_on_the_first_step(minilm: MiniLM) -> None:
    items = stream_unread(chat(FAMILY_EN, ai_blocked=True), backend=minilm)
    with pytest.raises(PolicyError, match="ai_blocked"):
        next(items)
