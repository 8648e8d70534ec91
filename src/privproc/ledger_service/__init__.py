"""The transparency ledger as a service (adapters over the ``ledger`` core).

:mod:`~privproc.ledger_service.app`: the C2SP tlog-tiles HTTP service (Starlette);
:mod:`~privproc.ledger_service.storage` and :mod:`~privproc.ledger_service.postgres`: its
SQLite and PostgreSQL stores; :mod:`~privproc.ledger_service.client`: its HTTP client.
"""

from __future__ import annotations

__all__: list[str] = []
