"""The Device takes its network as an httpx transport, so a test can wire it in memory."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from privproc.client.config import ClientConfig
from privproc.client.sdk import Device
from privproc.errors import MisuseError
from tests._world import NOW, World


class _NoTokens:
    def take(self) -> str:
        raise AssertionError("verification needs no token")


def _config(world: World) -> ClientConfig:
    return ClientConfig(
        relay_url="http://relay/",
        directory_url="http://directory",
        issuer_url="http://issuer",
        account="alice",
        issuer_name="issuer.test",
        origin="gateway.test",
        vendor_roots=(base64.b64encode(world.vendor.root_der).decode(),),
        trust_store="test",
        log_vkey=world.log.verifier().vkey(),
        witness_vkeys=tuple(w.verifier().vkey() for w in world.witnesses),
        quorum=2,
        publisher_vkey=world.publisher.verifier().vkey(),
    )


def test_device_verifies_a_directory_served_in_memory(tmp_path: Path) -> None:
    world = World()
    keys, bundle = world.documents()
    seen: list[str] = []

    def directory(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.url.host}{request.url.path}")
        served = {"/ohttp-keys": keys, "/nodes": bundle}.get(request.url.path)
        return httpx.Response(200 if served else 404, content=served or b"")

    device = Device(
        _config(world),
        tmp_path,
        _NoTokens(),
        now=lambda: NOW,
        transport=httpx.MockTransport(directory),
    )
    verified = device.verify()
    device.close()
    assert seen == ["directory/ohttp-keys", "directory/nodes"]
    assert {n.node for n in verified.nodes} == {"node-1", "node-2", "node-3"}


def test_transport_and_local_address_are_exclusive(tmp_path: Path) -> None:
    with pytest.raises(MisuseError):
        Device(
            _config(World()),
            tmp_path,
            _NoTokens(),
            local_address="127.0.0.2",
            transport=httpx.MockTransport(lambda r: httpx.Response(404)),
        )
