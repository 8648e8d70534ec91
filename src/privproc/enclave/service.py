"""Start a node: filtered logging first, then the model, the keys, the server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from privproc.errors import ConfigError

if TYPE_CHECKING:
    from privproc.enclave.platform import NodeHardware

__all__ = ["make_hardware", "release_config", "run_node"]


def release_config(config: Path | None) -> bytes:
    """The config bytes a release measures (empty when no config file is given)."""
    if config is None:
        return b""
    try:
        return config.read_bytes()
    except OSError:
        raise ConfigError(f"config not readable: {config}") from None


def _launch_digest(text: str | None) -> bytes | None:
    if text is None:
        return None
    try:
        digest = bytes.fromhex(text)
    except ValueError:
        raise ConfigError("--launch-digest must be hex") from None
    if len(digest) != 48:
        raise ConfigError("--launch-digest must be 48 bytes (SHA-384)")
    return digest


def make_hardware(
    *,
    platform: str,
    node_id: str,
    measurement: bytes,
    debug: bool,
    platform_seed: Path | None = None,
    emulated_amd: Path | None = None,
    tcb: str | None = None,
    launch_digest: str | None = None,
    endorsement: Path | None = None,
    tsm_root: Path | None = None,
    emulated_gpu: Path | None = None,
    gpu_devtools: bool = False,
    emulated_intel: Path | None = None,
) -> NodeHardware:
    """The node's hardware for ``platform`` (:data:`~privproc.enclave.platform.NODE_PLATFORMS`)."""
    from privproc.enclave import platform as hw

    if platform == "simulated":
        if platform_seed is None:
            raise ConfigError("--platform simulated needs --platform-seed")
        return hw.Hardware.for_node(
            hw.load_vendor(platform_seed), node_id, measurement, debug=debug
        )
    if platform == "sev-snp-emulated":
        if emulated_amd is None:
            raise ConfigError("--platform sev-snp-emulated needs --emulated-amd DIR")
        digest = _launch_digest(launch_digest)
        return hw.EmulatedSnpHardware.for_node(
            hw.load_emulated_amd(emulated_amd),
            node_id,
            measurement,
            tcb=hw.NODE_TCB if tcb is None else hw.parse_tcb(tcb),
            launch_digest=digest,
            debug=debug,
            gpu=None
            if emulated_gpu is None
            else hw.load_emulated_gpu(emulated_gpu, devtools=gpu_devtools),
        )
    if platform == "tdx-emulated":
        if emulated_intel is None:
            raise ConfigError("--platform tdx-emulated needs --emulated-intel DIR")
        from datetime import UTC, datetime

        return hw.EmulatedTdxHardware.for_node(
            hw.load_emulated_intel(emulated_intel),
            node_id,
            measurement,
            now=datetime.now(UTC),
            tcb="up-to-date" if tcb is None else tcb,
            image=_launch_digest(launch_digest),
            debug=debug,
        )
    if platform in ("sev-snp", "tdx"):
        if debug or tcb is not None or launch_digest is not None:
            raise ConfigError("on real hardware, debug, TCB and launch digest are the host's")
        blob = None
        if endorsement is not None:
            try:
                blob = endorsement.read_bytes()
            except OSError:
                raise ConfigError(f"endorsement not readable: {endorsement}") from None
        from privproc.attestation.tsm import TSM_REPORT_ROOT

        return hw.TsmHardware.boot(platform, endorsement=blob, root=tsm_root or TSM_REPORT_ROOT)
    raise ConfigError(f"unknown platform {platform!r}: one of {', '.join(hw.NODE_PLATFORMS)}")


def run_node(
    *,
    node_id: str,
    home: Path,
    platform_seed: Path | None,
    host: str,
    port: int,
    config: Path | None,
    debug: bool,
    key_lifetime: float,
    key_grace: float,
    evidence_refresh: float,
    platform: str = "simulated",
    emulated_amd: Path | None = None,
    tcb: str | None = None,
    launch_digest: str | None = None,
    endorsement: Path | None = None,
    tsm_root: Path | None = None,
    ledger: str | None = None,
    checkpoint_refresh: float = 30.0,
    emulated_gpu: Path | None = None,
    gpu_devtools: bool = False,
    emulated_intel: Path | None = None,
    model: Path | None = None,
    inference_url: str | None = None,
    inference_model: str = "local",
    llama_python: str | None = None,
    timeout: float = 60.0,
) -> None:
    """Run one node until interrupted (``ledger``: bind its witnessed checkpoints).

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

    from privproc._http import UVICORN_HTTP, UVICORN_LOOP
    from privproc.attestation import measure_release
    from privproc.attestation.measure import model_digest
    from privproc.enclave.hugepages import place_on_huge_pages
    from privproc.enclave.node import Node, create_app
    from privproc.workloads import Backend, load_default_backend, model_files
    from privproc.workloads.minilm import model_dir
    from privproc.workloads.rewrite import preload_word_lists

    if inference_url is not None and model is None:
        raise ConfigError("--inference-url needs --model: the file that server loads is measured")
    measurement = measure_release(
        model_dir=model_dir(), config=release_config(config), generative_model=model
    )
    hardware = make_hardware(
        platform=platform,
        node_id=node_id,
        measurement=measurement,
        debug=debug,
        platform_seed=platform_seed,
        emulated_amd=emulated_amd,
        tcb=tcb,
        launch_digest=launch_digest,
        endorsement=endorsement,
        tsm_root=tsm_root,
        emulated_gpu=emulated_gpu,
        gpu_devtools=gpu_devtools,
        emulated_intel=emulated_intel,
    )
    embedded = load_default_backend()
    place_on_huge_pages(embedded)  # cheap forks of the warm parent (enclave.hugepages)
    preload_word_lists()  # every request child shares them (workloads.rewrite)
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
            create_app(node, ledger=ledger, checkpoint_refresh=checkpoint_refresh),
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            server_header=False,
            loop=UVICORN_LOOP,
            http=UVICORN_HTTP,
        )
    finally:
        if generative is not None:
            generative.stop()
