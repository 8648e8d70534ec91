"""The directory (a CDN in production): the same public documents for everyone.

It serves the gateway's key configs (``application/ohttp-keys``) and the node
bundle: each node's key, evidence and measurement, with ledger inclusion proofs
for its release record and for each key-config record, against one witnessed
checkpoint. It verifies nothing (devices do) and learns only who fetches.
"""

from __future__ import annotations

__all__: list[str] = []
