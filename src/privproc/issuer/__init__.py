"""The Privacy Pass issuer service (RFC 9578 over HTTP): keys, quotas, device authentication.

Modules: :mod:`.app` (the ASGI app and the service state), :mod:`.keys` (rotation),
:mod:`.quota` (daily quotas), :mod:`.auth` (who may ask for tokens).
"""

from __future__ import annotations

__all__: list[str] = []
