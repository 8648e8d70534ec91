from __future__ import annotations

import logging
import sys

from privproc.enclave.logfilter import AllowListFilter


def _record(msg: object, args: tuple[object, ...] = (), exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("CANARY in exception")
        except ValueError:
            exc_info = sys.exc_info()
    return logging.LogRecord("x", logging.ERROR, __file__, 1, msg, args, exc_info)


def test_allow_listed_events_pass() -> None:
    f = AllowListFilter()
    assert f.filter(_record("node started"))
    assert f.filter(_record("request done status=%s", (200,)))
    assert f.filter(_record("request refused code=%s", ("open-failed",)))


def test_everything_else_is_dropped() -> None:
    f = AllowListFilter()
    assert not f.filter(_record("CANARY user text"))
    assert not f.filter(_record("request done status=%s", ("CANARY content here",)))
    assert not f.filter(_record("request done status=%s", ()))
    assert not f.filter(_record({"dict": "CANARY"}))


def test_exception_text_is_removed() -> None:
    f = AllowListFilter()
    record = _record("child failed code=%s", ("internal",), exc=True)
    assert f.filter(record)
    assert record.exc_info is None
    assert "CANARY" not in logging.Formatter().format(record)
