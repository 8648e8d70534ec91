"""The messenger web app (``privproc app``, issue 17): the device, in a browser.

A local web server run by the device (an adapter, like :mod:`privproc.client`): it shows
the user's chats (:mod:`.chats`), sends the AI requests through the device SDK
(:class:`privproc.client.sdk.Device`), and shows why the answer can be trusted: the
verification trail in plain words (:mod:`.plain`), the release in the ledger, and the
on-device report of what was sent where. :mod:`.server` holds the HTTP side and its
guards (loopback, ``Host`` check, per-launch token, Content Security Policy).
"""

__all__: list[str] = []
