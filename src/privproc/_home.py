"""Where privproc keeps local state: ``$PRIVPROC_HOME``, by default ``~/.privproc``.

Each party (ledger, witness, issuer, consent...) keeps its files in a folder of
its own under it, unless a command is given ``--home``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["default_home", "party_home"]


def default_home() -> Path:
    """``$PRIVPROC_HOME`` when it is set and not empty, else ``~/.privproc``."""
    return Path(os.environ.get("PRIVPROC_HOME") or Path.home() / ".privproc")


def party_home(home: Path | None, party: str) -> Path:
    """``home`` when given, else ``default_home() / party``."""
    return home if home is not None else default_home() / party
