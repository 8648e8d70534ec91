"""What a model backend offers the features.

Every backend embeds text (``embed``); some can also write text (``generate``),
which lets the features produce abstractive summaries and free-form rewrites.
The embedded default (:class:`privproc.workloads.minilm.MiniLM`) only embeds;
an OpenAI-compatible inference server (:mod:`privproc.inference.openai_compat`)
does both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

__all__ = ["Backend", "Generator"]


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
