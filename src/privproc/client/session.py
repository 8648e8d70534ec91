"""Opening the device from ``$PRIVPROC_HOME/client/`` (what the CLI commands use)."""

from __future__ import annotations

from pathlib import Path

from privproc.client.config import ClientConfig, client_home
from privproc.client.sdk import Device
from privproc.client.tokens import IssuerTokens
from privproc.tokens.protocol import TOKEN_TYPE_BLIND_RSA, TokenChallenge

__all__ = ["open_device"]


def open_device(home: Path | None = None, *, local_address: str | None = None) -> Device:
    """The device configured under ``home`` (default ``$PRIVPROC_HOME/client``)."""
    folder = home or client_home()
    config = ClientConfig.load(folder / "config.json")
    challenge = TokenChallenge(TOKEN_TYPE_BLIND_RSA, config.issuer_name, b"", config.origin)
    tokens = IssuerTokens(config.issuer_url, config.account, challenge, folder)
    return Device(config, folder, tokens, local_address=local_address)
