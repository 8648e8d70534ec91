"""``privproc enclave``: one enclave node (simulated confidential VM).

A convenience: it runs the same :func:`privproc.enclave.service.run_node` as the
node's own entry point ``python -m privproc.enclave`` (same options), which is
what the cluster starts, since that one loads no CLI code and so keeps the CLI
out of the release measurement (docs/attestation.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add the ``enclave`` command."""

    @app.command()
    def enclave(
        *,
        node_id: Annotated[str, typer.Option("--node-id", help="This node's name.")],
        home: Annotated[Path, typer.Option(help="The node's folder (the node writes nothing).")],
        platform_seed: Annotated[
            Path | None, typer.Option(help="Seed file of the simulated hardware vendor.")
        ] = None,
        platform: Annotated[
            str,
            typer.Option(help="simulated, sev-snp-emulated, tdx-emulated, sev-snp or tdx."),
        ] = "simulated",
        emulated_amd: Annotated[
            Path | None, typer.Option(help="Folder of the emulated AMD's keys.")
        ] = None,
        emulated_intel: Annotated[
            Path | None, typer.Option(help="Folder of the emulated Intel's keys (tdx-emulated).")
        ] = None,
        tcb: Annotated[
            str | None, typer.Option(help="Emulated TCB, e.g. bl=4,tee=0,snp=22,ucode=213.")
        ] = None,
        launch_digest: Annotated[
            str | None, typer.Option(help="Emulated launch digest (hex, 48 bytes).")
        ] = None,
        endorsement: Annotated[
            Path | None,
            typer.Option(help="Fetched at boot: VCEK DER (sev-snp) or collateral JSON (tdx)."),
        ] = None,
        tsm_root: Annotated[Path | None, typer.Option(help="configfs-tsm report folder.")] = None,
        ledger: Annotated[
            str | None, typer.Option(help="Ledger URL: bind its witnessed checkpoints.")
        ] = None,
        checkpoint_refresh: Annotated[
            float, typer.Option(help="Seconds between checkpoint fetches.")
        ] = 30.0,
        emulated_gpu: Annotated[
            Path | None, typer.Option(help="Folder of the emulated NVIDIA root: attach an H100.")
        ] = None,
        gpu_devtools: Annotated[
            bool, typer.Option("--gpu-devtools", help="Emulated GPU in devtools mode.")
        ] = False,
        host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="Port to listen on.")] = 8090,
        config: Annotated[Path | None, typer.Option(help="Release config (measured).")] = None,
        debug: Annotated[bool, typer.Option(help="Run as a debuggable guest.")] = False,
        key_lifetime: Annotated[float, typer.Option(help="Seconds a key is published.")] = 3600.0,
        key_grace: Annotated[float, typer.Option(help="Seconds a retired key opens.")] = 600.0,
        evidence_refresh: Annotated[
            float, typer.Option(help="Seconds between fresh evidence.")
        ] = 300.0,
        model: Annotated[
            Path | None,
            typer.Option(help="A GGUF file served by the node's own llama.cpp server (measured)."),
        ] = None,
        inference_url: Annotated[
            str | None,
            typer.Option(help="An OpenAI-compatible server in this VM that loads --model."),
        ] = None,
        inference_model: Annotated[str, typer.Option(help="Its model name.")] = "local",
        llama_python: Annotated[
            str | None, typer.Option(help="The Python with llama-cpp-python.")
        ] = None,
        timeout: Annotated[float, typer.Option(help="Seconds a request's child may run.")] = 60.0,
    ) -> None:
        """Run an enclave node: attested keys, a fresh process per request, nothing on disk."""
        from privproc.enclave.service import run_node

        run_node(
            node_id=node_id,
            home=home,
            platform_seed=platform_seed,
            host=host,
            port=port,
            config=config,
            debug=debug,
            key_lifetime=key_lifetime,
            key_grace=key_grace,
            evidence_refresh=evidence_refresh,
            model=model,
            inference_url=inference_url,
            inference_model=inference_model,
            llama_python=llama_python,
            timeout=timeout,
            platform=platform,
            emulated_amd=emulated_amd,
            tcb=tcb,
            launch_digest=launch_digest,
            endorsement=endorsement,
            tsm_root=tsm_root,
            ledger=ledger,
            checkpoint_refresh=checkpoint_refresh,
            emulated_gpu=emulated_gpu,
            gpu_devtools=gpu_devtools,
            emulated_intel=emulated_intel,
        )
