"""What a model backend offers the features.

Every backend embeds text (``embed``); some can also write text (``generate``),
which lets the features produce abstractive summaries and free-form rewrites.
The embedded default (:class:`privproc.workloads.minilm.MiniLM`) only embeds;
an OpenAI-compatible inference server (:mod:`privproc.inference.openai_compat`)
does both.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["Backend", "ChatModel", "ChatStreamer", "Completion", "Generator", "TextStreamer"]


@runtime_checkable
class Backend(Protocol):
    """A model that maps texts to unit-norm embeddings, one row per text."""

    name: str

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embeddings of ``texts``, shape ``(len(texts), d)``, rows of unit norm."""
        ...


@runtime_checkable
class Generator(Protocol):
    """The optional capability: write text from a chat-style prompt."""

    name: str

    def generate(
        self, prompt: str, *, system: str = "", max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        """The model's reply to ``prompt`` (with an optional system message)."""
        ...


@runtime_checkable
class TextStreamer(Protocol):
    """The optional capability: :meth:`Generator.generate`, as it is written (a streamed
    summary shows its first lines before the model wrote its last)."""

    name: str

    def stream(
        self, prompt: str, *, system: str = "", max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        """Text deltas of the reply to ``prompt``, in order, as the model writes them."""
        ...


@dataclass(frozen=True, slots=True, repr=False)
class Completion:
    """A model's answer to a chat: its text, why it stopped (``"stop"`` or ``"length"``)
    and the token counts the server reported (0 when it reported none)."""

    text: str
    finish_reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __repr__(self) -> str:
        return f"Completion(text=<{len(self.text)} chars>, finish_reason={self.finish_reason!r})"


@runtime_checkable
class ChatModel(Protocol):
    """The optional capability: answer a whole chat (OpenAI chat completions)."""

    name: str

    def complete(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Completion:
        """The model's next assistant message after ``messages`` (role, content)."""
        ...


@runtime_checkable
class ChatStreamer(Protocol):
    """The optional capability: answer a chat as it is written (streamed completions)."""

    name: str

    def complete_stream(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        stop: Sequence[str] = (),
    ) -> Iterator[str | Completion]:
        """Text deltas (``str``) as the model writes them, then one :class:`Completion`
        (the whole text, why it stopped, the token counts) that ends the answer."""
        ...
