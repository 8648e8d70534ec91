"""The AI features, as pure functions behind a model backend protocol.

``summarize_unread(chat, backend=...)`` and ``suggest_rewrites(draft, tones,
backend=...)`` take values and return values; they do no I/O of their own (the
OpenAI-compatible backend is the one piece here that speaks HTTP, to an inference
server inside the same confidential VM). ``load_default_backend()`` is the
embedded CPU model; ``model_files()`` lists the files an enclave release measures.
Content is private: nothing here logs message text.
"""

from __future__ import annotations

from privproc.workloads.backend import Backend, Generator
from privproc.workloads.chat import Chat, Message
from privproc.workloads.minilm import load_default_backend, model_files
from privproc.workloads.rewrite import TONES, Rewrite, Rewrites, suggest_rewrites
from privproc.workloads.summarize import Point, Summary, Withdrawn, stream_unread, summarize_unread

__all__ = [
    "TONES",
    "Backend",
    "Chat",
    "Generator",
    "Message",
    "Point",
    "Rewrite",
    "Rewrites",
    "Summary",
    "Withdrawn",
    "load_default_backend",
    "model_files",
    "stream_unread",
    "suggest_rewrites",
    "summarize_unread",
]
