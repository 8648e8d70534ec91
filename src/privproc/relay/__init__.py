"""The OHTTP relay (RFC 9458 §6.1): forwards sealed bytes, hides the client's address.

The relay holds no key and no protocol code: it never imports ``hpke``, ``ohttp``
or ``tokens`` (tests/unit/relay/test_relay_imports.py enforces it). It forwards
``message/ohttp-req`` bodies to its one configured gateway, strips every header
but the content type and length, limits each client address with an in-memory
token bucket, bounds body sizes and never logs a body.
"""

from __future__ import annotations

__all__: list[str] = []
