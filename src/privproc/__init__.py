"""privproc: private AI processing for end-to-end-encrypted messaging.

See DESIGN.md (the map) and README.md. Protocol cores (``hpke``, ``bhttp``,
``ohttp``, ``tokens``, ``ledger``, ``attestation``) do no I/O; services and the
client do.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
