"""Privacy Pass anonymous tokens: RFC 9474 blind RSA, RFC 9578 issuance (type 0x0002),
RFC 9577 HTTP authentication, redemption with a spent-token store, and the device client.

Modules: :mod:`.blind_rsa` (RFC 9474), :mod:`.protocol` (RFC 9578 encodings and the
issuer directory), :mod:`.http_auth` (RFC 9577 headers), :mod:`.redeem` (verify and spend
once), :mod:`.spent` (spent-token stores), :mod:`.client` (the device's token wallet).
"""

from __future__ import annotations

__all__: list[str] = []
