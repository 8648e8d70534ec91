"""Running every party on loopback as separate processes (``privproc up`` / ``privproc demo``).

:mod:`.release` measures the enclave release and records it in the ledger;
:mod:`.launch` starts the ledger, witnesses, issuer, enclave nodes, gateway,
directory and relay, each in its own folder under ``$PRIVPROC_HOME``, and writes
the client's config once every party answers.
"""

from __future__ import annotations

__all__: list[str] = []
