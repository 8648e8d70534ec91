"""The transparency ledger: a witnessed Merkle log of releases and key configs.

Protocol cores (no I/O): :mod:`.merkle` (RFC 9162 §2.1 tree, proofs and their
verification), :mod:`.note` (C2SP signed-note), :mod:`.checkpoint`
(C2SP tlog-checkpoint), :mod:`.cosignature` (C2SP tlog-cosignature, Ed25519
``cosignature/v1``), :mod:`.tiles` (C2SP tlog-tiles), :mod:`.records` (the signed
release / key-config / revocation records) and :mod:`.verifier` (the device-side
check: is this record in a witnessed checkpoint consistent with what I saw?).

Around them: :mod:`.seen` (the device's on-disk store of the newest checkpoint),
:mod:`.storage` (SQLite), :mod:`.service` (the ASGI app), :mod:`.client`
(HTTP fetches) and :mod:`.audit` (offline re-derivation of a fetched log).
"""

from __future__ import annotations

__all__: list[str] = []
