"""The witness: cosigns a log's checkpoints only when they extend what it saw.

:mod:`.protocol` is the sans-I/O core of C2SP tlog-witness ``add-checkpoint``;
:mod:`.service` the ASGI app with its SQLite state.
"""

from __future__ import annotations

__all__: list[str] = []
