"""The consent service and its stores (adapters over the ``consent`` core).

:mod:`~privproc.consent_service.app`: the HTTP service (Starlette);
:mod:`~privproc.consent_service.client`: its HTTP client;
:mod:`~privproc.consent_service.sqlite` and :mod:`~privproc.consent_service.postgres`:
the two stores; :func:`~privproc.consent_service.stores.open_store` picks one from a URL.
"""

from __future__ import annotations

__all__: list[str] = []
