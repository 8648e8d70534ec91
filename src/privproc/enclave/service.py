"""Start a node: filtered logging first, then the model, the keys, the server."""

from __future__ import annotations

import os
from pathlib import Path

from privproc.errors import ConfigError

__all__ = ["release_config", "run_node"]


def release_config(config: Path | None) -> bytes:
    """The config bytes a release measures (empty when no config file is given)."""
    if config is None:
        return b""
    try:
        return config.read_bytes()
    except OSError:
        raise ConfigError(f"config not readable: {config}") from None


def run_node(
    *,
    node_id: str,
    home: Path,
    platform_seed: Path,
    host: str,
    port: int,
    config: Path | None,
    debug: bool,
    key_lifetime: float,
    key_grace: float,
    evidence_refresh: float,
) -> None:
    """Run one node until interrupted."""
    import logging

    from privproc.enclave import logfilter

    logfilter.install()
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    if not home.is_dir():
        raise ConfigError(f"node home is not a folder: {home}")

    import uvicorn

    from privproc.attestation import measure_release
    from privproc.enclave.hugepages import place_on_huge_pages
    from privproc.enclave.node import Node, create_app
    from privproc.enclave.platform import Hardware, load_vendor
    from privproc.workloads import load_default_backend
    from privproc.workloads.minilm import model_dir

    measurement = measure_release(model_dir=model_dir(), config=release_config(config))
    hardware = Hardware.for_node(load_vendor(platform_seed), node_id, measurement, debug=debug)
    backend = load_default_backend()
    place_on_huge_pages(backend)  # cheap forks of the warm parent (enclave.hugepages)
    logging.getLogger("privproc.enclave").info("model loaded")
    node = Node(
        node_id,
        hardware,
        backend,
        key_lifetime=key_lifetime,
        key_grace=key_grace,
        evidence_refresh=evidence_refresh,
    )
    uvicorn.run(
        create_app(node),
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
    )
