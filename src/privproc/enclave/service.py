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
    model: Path | None = None,
    inference_url: str | None = None,
    inference_model: str = "local",
    llama_python: str | None = None,
    timeout: float = 60.0,
) -> None:
    """Run one node until interrupted.

    ``model``: a GGUF file this node serves with its own llama.cpp server, or (with
    ``inference_url``) the file the OpenAI-compatible server beside it loads
    (privproc.enclave.generative); measured, and named as the release's model digest."""
    import logging

    from privproc.enclave import logfilter

    logfilter.install()
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    if not home.is_dir():
        raise ConfigError(f"node home is not a folder: {home}")

    import uvicorn

    from privproc.attestation import measure_release
    from privproc.attestation.measure import model_digest
    from privproc.enclave.node import Node, create_app
    from privproc.enclave.platform import Hardware, load_vendor
    from privproc.workloads import Backend, load_default_backend, model_files
    from privproc.workloads.minilm import model_dir

    if inference_url is not None and model is None:
        raise ConfigError("--inference-url needs --model: the file that server loads is measured")
    measurement = measure_release(
        model_dir=model_dir(), config=release_config(config), generative_model=model
    )
    hardware = Hardware.for_node(load_vendor(platform_seed), node_id, measurement, debug=debug)
    embedded = load_default_backend()
    backend: Backend = embedded
    generative = None
    if model is not None:
        from privproc.enclave.generative import start_generative

        generative = start_generative(
            model=model,
            embedder=embedded,
            inference_url=inference_url,
            inference_model=inference_model,
            python=llama_python,
        )
        backend = generative.backend
    logging.getLogger("privproc.enclave").info("model loaded")
    node = Node(
        node_id,
        hardware,
        backend,
        key_lifetime=key_lifetime,
        key_grace=key_grace,
        evidence_refresh=evidence_refresh,
        model_digest=model_digest(model_files(), model),
        timeout=timeout,
    )
    try:
        uvicorn.run(
            create_app(node),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,
        )
    finally:
        if generative is not None:
            generative.stop()
