"""Data-use consent: per-account consent records and the training-data eligibility rules.

* :mod:`privproc.consent.events`  the consent state, its hash-chained event history
* :mod:`privproc.consent.regions` where the law requires asking (unset means refused)
* :mod:`privproc.consent.rules`   the eligibility rules, one table, stable names
* :mod:`privproc.consent.export`  the streaming training-data filter (no I/O)
* :mod:`privproc.consent.receipt` Ed25519-signed receipts for consent changes
* :mod:`privproc.consent.store`   the store contract (the stores, the HTTP service and its
  client are adapters in :mod:`privproc.consent_service`)

See ``docs/consent.md``.
"""

from __future__ import annotations

__all__: list[str] = []
