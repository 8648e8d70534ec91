"""``python -m privproc.enclave``: one enclave node, started without the general CLI.

This is how the cluster launcher starts nodes. It takes the same options as
``privproc enclave`` but imports only what the node runs (no ``privproc.cli``,
no ``privproc.commands``), so the release measurement
(:data:`privproc.attestation.measure.ENCLAVE_CODE`) does not change when another
area's CLI command does. Exits non-zero with a one-line reason on failure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from privproc.errors import PrivprocError

__all__ = ["main", "parser"]


def parser() -> argparse.ArgumentParser:
    """The node's options (the same as ``privproc enclave``)."""
    p = argparse.ArgumentParser(
        prog="python -m privproc.enclave",
        description="Run an enclave node: attested keys, a fresh process per request, "
        "nothing on disk.",
    )
    p.add_argument("--node-id", required=True, help="This node's name.")
    p.add_argument(
        "--home", required=True, type=Path, help="The node's folder (the node writes nothing)."
    )
    p.add_argument(
        "--platform",
        default="simulated",
        choices=("simulated", "sev-snp-emulated", "tdx-emulated", "sev-snp", "tdx"),
        help="The hardware: simulated, emulated SEV-SNP or TDX, or a real SEV-SNP/TDX guest.",
    )
    p.add_argument(
        "--platform-seed",
        type=Path,
        default=None,
        help="Seed file of the simulated hardware vendor (--platform simulated).",
    )
    p.add_argument(
        "--emulated-amd",
        type=Path,
        default=None,
        help="Folder of the emulated AMD's ARK/ASK keys (--platform sev-snp-emulated).",
    )
    p.add_argument(
        "--emulated-intel",
        type=Path,
        default=None,
        help="Folder of the emulated Intel's root, PCK CA and TCB keys (--platform tdx-emulated).",
    )
    p.add_argument(
        "--tcb",
        default=None,
        help="Emulated chip's TCB, e.g. bl=4,tee=0,snp=22,ucode=213 (tdx: out-of-date).",
    )
    p.add_argument(
        "--launch-digest",
        default=None,
        help="Emulated firmware's launch digest (hex, 48 bytes); default: the release's.",
    )
    p.add_argument(
        "--endorsement",
        type=Path,
        default=None,
        help="Fetched at boot: the VCEK (DER, sev-snp) or DCAP collateral (JSON, tdx).",
    )
    p.add_argument(
        "--emulated-gpu",
        type=Path,
        default=None,
        help="Folder of the emulated NVIDIA root: attach an emulated H100 (sev-snp-emulated).",
    )
    p.add_argument(
        "--gpu-devtools",
        action="store_true",
        help="Run the emulated GPU in devtools mode (devices refuse it).",
    )
    p.add_argument(
        "--ledger",
        default=None,
        help="Ledger URL: evidence binds its newest witnessed checkpoint (fresh evidence).",
    )
    p.add_argument(
        "--checkpoint-refresh",
        type=float,
        default=30.0,
        help="Seconds between fetches of the witnessed checkpoint.",
    )
    p.add_argument(
        "--tsm-root", type=Path, default=None, help="configfs-tsm report folder (sev-snp, tdx)."
    )
    p.add_argument("--host", default="127.0.0.1", help="Address to listen on.")
    p.add_argument("--port", type=int, default=8090, help="Port to listen on.")
    p.add_argument("--config", type=Path, default=None, help="Release config (measured).")
    p.add_argument(
        "--debug",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="Run as a debuggable guest.",
    )
    p.add_argument("--key-lifetime", type=float, default=3600.0, help="Seconds a key is published.")
    p.add_argument("--key-grace", type=float, default=600.0, help="Seconds a retired key opens.")
    p.add_argument(
        "--evidence-refresh", type=float, default=300.0, help="Seconds between fresh evidence."
    )
    p.add_argument(
        "--model",
        type=Path,
        default=None,
        help="A GGUF file to serve with the node's own llama.cpp server (measured).",
    )
    p.add_argument(
        "--inference-url",
        default=None,
        help="An OpenAI-compatible server inside this VM that loads --model (vLLM).",
    )
    p.add_argument("--inference-model", default="local", help="Its model name.")
    p.add_argument("--llama-python", default=None, help="The Python with llama-cpp-python.")
    p.add_argument("--timeout", type=float, default=60.0, help="Seconds a request's child may run.")
    return p


def main(argv: list[str] | None = None) -> None:
    """Parse ``argv`` (default ``sys.argv[1:]``) and run the node until interrupted."""
    args = parser().parse_args(argv)
    from privproc.enclave.service import run_node

    try:
        run_node(
            node_id=args.node_id,
            home=args.home,
            platform_seed=args.platform_seed,
            host=args.host,
            port=args.port,
            config=args.config,
            debug=args.debug,
            key_lifetime=args.key_lifetime,
            key_grace=args.key_grace,
            evidence_refresh=args.evidence_refresh,
            model=args.model,
            inference_url=args.inference_url,
            inference_model=args.inference_model,
            llama_python=args.llama_python,
            timeout=args.timeout,
            platform=args.platform,
            emulated_amd=args.emulated_amd,
            tcb=args.tcb,
            launch_digest=args.launch_digest,
            endorsement=args.endorsement,
            tsm_root=args.tsm_root,
            ledger=args.ledger,
            checkpoint_refresh=args.checkpoint_refresh,
            emulated_gpu=args.emulated_gpu,
            gpu_devtools=args.gpu_devtools,
            emulated_intel=args.emulated_intel,
        )
    except PrivprocError as exc:
        print(f"privproc.enclave: error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
