"""The stores: every database the parties write (adapters; SQLite by default, Redis and
PostgreSQL at scale). Cores name the contracts; the implementations live here.

:mod:`privproc.stores.spent`: the gateway's spent tokens (SQLite, Redis).
"""

from __future__ import annotations

__all__: list[str] = []
