"""Content-free logging for the node: an allow-list filter (DESIGN.md guarantee 5).

Only records whose message is one of :data:`EVENTS` pass, with arguments that
are numbers or short identifiers from a fixed vocabulary; exception text and
tracebacks are always removed. Anything else is dropped, whatever its level or
logger, so a careless ``log.info(payload)`` anywhere in the process cannot leak.
"""

from __future__ import annotations

import logging
import re

__all__ = ["EVENTS", "AllowListFilter", "install"]

#: The node's whole logging vocabulary: event name -> number of arguments.
EVENTS: dict[str, int] = {
    "node started": 0,
    "node stopping": 0,
    "key published": 0,
    "key destroyed": 0,
    "evidence refreshed": 0,
    "request done status=%s": 1,
    "request refused code=%s": 1,
    "child failed code=%s": 1,
    "child timed out": 0,
    "model loaded": 0,
    "checkpoint fetched": 0,
    "checkpoint fetch status=%s": 1,
    "checkpoint fetch failed=%s": 1,
}

_TOKEN = re.compile(r"[a-z0-9-]{1,32}")


class AllowListFilter(logging.Filter):
    """Pass allow-listed, content-free records; drop everything else."""

    def filter(self, record: logging.LogRecord) -> bool:
        arity = EVENTS.get(record.msg) if isinstance(record.msg, str) else None
        if arity is None:
            return False
        args = record.args if isinstance(record.args, tuple) else ()
        if len(args) != arity or not all(_safe(a) for a in args):
            return False
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def _safe(value: object) -> bool:
    if isinstance(value, bool | int | float):
        return True
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def install(level: int = logging.INFO) -> logging.Handler:
    """Route every log record of this process through one filtered stderr handler."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler()
    handler.addFilter(AllowListFilter())
    handler.setFormatter(logging.Formatter("%(asctime)s node %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    for name in list(logging.root.manager.loggerDict):
        logger = logging.getLogger(name)
        for h in list(logger.handlers):
            logger.removeHandler(h)
        logger.propagate = True
    return handler
