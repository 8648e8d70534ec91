"""``privproc.openai``: the OpenAI SDK's ``http_client`` that uses the private path.

See :mod:`privproc.client.openai_transport` and docs/openai.md.
"""

from __future__ import annotations

from privproc.client.openai_transport import PrivateTransport, private_http_client

__all__ = ["PrivateTransport", "private_http_client"]
