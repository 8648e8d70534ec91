"""The device SDK: tokens -> discover -> verify -> seal -> send through the relay -> open.

Everything the device checks fails closed with an error naming the check
(:mod:`.verify`); nothing leaves the device before verification passes, and a
chat with ``ai_blocked`` on is refused before anything is fetched. State lives
under ``$PRIVPROC_HOME/client/``. The client never imports server code.
"""

from __future__ import annotations

__all__: list[str] = []
