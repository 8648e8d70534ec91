"""Open the consent store a URL or path names: PostgreSQL for scale, SQLite by default."""

from __future__ import annotations

from pathlib import Path

from privproc.consent.store import ConsentStore
from privproc.consent_service.postgres import PostgresStore
from privproc.consent_service.sqlite import SqliteStore

__all__ = ["open_store"]


def open_store(target: str | Path) -> ConsentStore:
    """A store for ``target``: a ``postgresql://`` URL, or a SQLite file path."""
    text = str(target)
    if text.startswith(("postgresql://", "postgres://")):
        return PostgresStore(text)
    return SqliteStore(target)
