"""Reading a JSON-lines file in bounded memory.

:func:`iter_lines` reads at most ``max_line + 1`` bytes of any line into memory:
a longer line is returned as that prefix (and then counts as malformed, being
over the limit), and the rest of it is skipped in pieces.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

from privproc.consent.export import MAX_LINE

__all__ = ["iter_lines"]


def iter_lines(stream: BinaryIO, max_line: int = MAX_LINE) -> Iterator[bytes]:
    """Yield each line of ``stream``; an over-long one as its first ``max_line + 1`` bytes."""
    limit = max_line + 2  # room for the line, one byte over, and "\r"; "\n" ends it early
    while True:
        line = stream.readline(limit)
        if not line:
            return
        if not line.endswith(b"\n") and len(line) == limit:
            while True:  # skip the rest of an over-long line without holding it
                rest = stream.readline(limit)
                if not rest or rest.endswith(b"\n"):
                    break
        yield line
