"""The operator's OHTTP gateway (RFC 9458 §6.2): decapsulate, redeem, route to a named node.

The gateway sees a valid token was spent and sealed bytes; never the client's
address (the relay hides it), never plaintext (only the K nodes the device named
can unwrap it), never the AI (it never imports ``workloads`` or ``enclave``).
"""

from __future__ import annotations

__all__: list[str] = []
