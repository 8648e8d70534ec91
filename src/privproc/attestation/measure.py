"""Reproducible measurement of what an enclave node runs.

The measurement is SHA-384 (48 bytes, the size of an SEV-SNP ``MEASUREMENT``)
over a domain-separated, length-prefixed listing of three sections, in order:
the enclave code files, the model files, and the config. Within a section files
are sorted by their relative POSIX path, and each contributes its path and its
full content, so renaming, adding, removing or changing one byte of any file
changes the measurement::

    "privproc measurement v1"
    for section in ("code", "model", "config"):
        uint8 len(section) || section || uint32 count
        for (path, content) sorted by path:
            uint16 len(path) || path (UTF-8) || uint64 len(content) || content

``privproc release`` and the simulated platform both call :func:`measure_release`,
so a release record's measurement is what simulated nodes report.

On real SEV-SNP hardware the report's ``MEASUREMENT`` is the launch digest the
AMD-SP computes over the initial guest image; a release for such hardware records
that digest too (docs/attestation.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path, PurePosixPath

from cryptography.hazmat.primitives import hashes

import privproc
from privproc.errors import ConfigError, MisuseError

__all__ = [
    "ENCLAVE_CODE",
    "MEASUREMENT_SIZE",
    "enclave_code_files",
    "file_sha256",
    "measure",
    "measure_release",
    "measure_tree",
    "model_digest",
]

#: Bytes in a measurement (SHA-384).
MEASUREMENT_SIZE = 48

#: The parts of the ``privproc`` package an enclave node runs (files or folders,
#: relative to the package); those that do not exist yet are skipped. A node is
#: started as ``python -m privproc.enclave`` (:mod:`privproc.enclave.__main__`),
#: which loads no CLI code, so ``cli.py``, the top-level ``__main__.py`` and
#: ``commands`` are not measured and a change to a CLI command leaves the
#: measurement alone. tests/unit/enclave/test_measured_closure.py starts a node
#: and fails if any ``privproc`` module it loads is not listed here, or if it
#: loads the CLI. ``inference`` holds the OpenAI-compatible client the request
#: child calls and the llama.cpp server (:mod:`privproc.inference.llama_server`)
#: a node started with ``--model`` runs inside the same image.
ENCLAVE_CODE: tuple[str, ...] = (
    "__init__.py",
    "errors.py",
    "_wire.py",
    "_http.py",
    "hpke.py",
    "_hpke_kems.py",
    "_xwing.py",
    "sealed.py",
    "limits.py",
    "keylife.py",
    "problem.py",
    "attestation",
    "enclave",
    "inference",
    "workloads",
)

_LABEL = b"privproc measurement v1"
_SUFFIXES = frozenset({".py", ".pem", ".json", ".txt"})
_CHUNK = 1 << 20


class _Measurer:
    __slots__ = ("_h",)

    def __init__(self) -> None:
        self._h = hashes.Hash(hashes.SHA384())
        self._h.update(len(_LABEL).to_bytes(1, "big") + _LABEL)

    def section(self, name: str, count: int) -> None:
        raw = name.encode()
        self._h.update(len(raw).to_bytes(1, "big") + raw + count.to_bytes(4, "big"))

    def entry_head(self, path: str, size: int) -> None:
        raw = _check_path(path).encode()
        self._h.update(len(raw).to_bytes(2, "big") + raw + size.to_bytes(8, "big"))

    def update(self, data: bytes) -> None:
        self._h.update(data)

    def finalize(self) -> bytes:
        return self._h.finalize()


def _check_path(path: str) -> str:
    pure = PurePosixPath(path)
    if not path or pure.is_absolute() or ".." in pure.parts or str(pure) != path:
        raise MisuseError(f"measured paths must be normalized relative POSIX paths: {path!r}")
    if len(path.encode()) > 0xFFFF:  # uint16 length prefix (module docstring)
        raise MisuseError("measured path longer than 65535 bytes")
    return path


def measure(code: Mapping[str, bytes], models: Mapping[str, bytes], config: bytes) -> bytes:
    """Measure in-memory content (the pure form of :func:`measure_tree`)."""
    m = _Measurer()
    for name, files in (("code", code), ("model", models)):
        m.section(name, len(files))
        for path in sorted(files):
            m.entry_head(path, len(files[path]))
            m.update(files[path])
    m.section("config", 1)
    m.entry_head("config", len(config))
    m.update(config)
    return m.finalize()


def _listing(root: Path, parts: Iterable[str] | None) -> dict[str, Path]:
    out: dict[str, Path] = {}
    tops = [root] if parts is None else [root / p for p in parts]
    for top in tops:
        if top.is_file():
            out[top.relative_to(root).as_posix()] = top
        elif top.is_dir():
            for f in top.rglob("*"):
                if f.is_file() and "__pycache__" not in f.parts and f.suffix in _SUFFIXES:
                    out[f.relative_to(root).as_posix()] = f
    return out


def _hash_files(m: _Measurer, name: str, files: Mapping[str, Path]) -> None:
    m.section(name, len(files))
    for path in sorted(files):
        f = files[path]
        size = f.stat().st_size
        m.entry_head(path, size)
        done = 0
        with f.open("rb") as fh:
            # Read at most one byte past the declared size: enough to see a file that grew.
            while done <= size and (chunk := fh.read(min(_CHUNK, size + 1 - done))):
                done += len(chunk)
                m.update(chunk)
        if done != size:
            # The length prefix would not match the content: no honest measurement exists.
            raise ConfigError(f"{path} changed while it was being measured")


def measure_tree(
    code_root: Path,
    *,
    code_parts: Iterable[str] | None = None,
    model_dir: Path | None = None,
    extra_models: Mapping[str, Path] | None = None,
    config: bytes = b"",
) -> bytes:
    """Measure files on disk: code under ``code_root`` (optionally only ``code_parts``),
    every file under ``model_dir`` plus ``extra_models`` (measured path -> file), and
    ``config``. Same result as :func:`measure` over the same content. Model files are
    hashed in chunks (they can be large).
    """
    if not code_root.is_dir():
        raise ConfigError(f"code root is not a directory: {code_root}")
    m = _Measurer()
    _hash_files(m, "code", _listing(code_root, code_parts))
    models: dict[str, Path] = {}
    if model_dir is not None:
        if not model_dir.is_dir():
            raise ConfigError(f"model directory is not a directory: {model_dir}")
        models = {
            f.relative_to(model_dir).as_posix(): f for f in model_dir.rglob("*") if f.is_file()
        }
    for name, path in (extra_models or {}).items():
        if not path.is_file():
            raise ConfigError(f"model file is not a file: {path}")
        models[name] = path
    _hash_files(m, "model", models)
    m.section("config", 1)
    m.entry_head("config", len(config))
    m.update(config)
    return m.finalize()


def enclave_code_files(package_root: Path | None = None) -> dict[str, Path]:
    """The enclave's code files: :data:`ENCLAVE_CODE` under the installed package."""
    root = package_root or Path(privproc.__file__).resolve().parent
    return _listing(root, ENCLAVE_CODE)


def measure_release(
    *,
    model_dir: Path | None = None,
    config: bytes = b"",
    package_root: Path | None = None,
    generative_model: Path | None = None,
) -> bytes:
    """The measurement of an enclave release: the installed ``privproc`` enclave code
    (:data:`ENCLAVE_CODE`), the model files (the embedded model under ``model_dir``,
    and the GGUF file a node serves with ``--model``, measured as
    ``generative/<file name>``) and the config. ``privproc release`` records this
    value in the ledger; simulated nodes report it.
    """
    root = package_root or Path(privproc.__file__).resolve().parent
    extra = (
        {}
        if generative_model is None
        else {f"generative/{generative_model.name}": generative_model}
    )
    return measure_tree(
        root, code_parts=ENCLAVE_CODE, model_dir=model_dir, extra_models=extra, config=config
    )


def _feed_file(h: hashes.Hash, path: Path) -> None:
    try:
        with path.open("rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
    except OSError as exc:
        raise ConfigError(f"model file not readable: {path} ({exc.strerror})") from None


def file_sha256(path: Path) -> bytes:
    """SHA-256 of one file, read in chunks (what ``sha256sum`` prints, as bytes)."""
    h = hashes.Hash(hashes.SHA256())
    _feed_file(h, path)
    return h.finalize()


def model_digest(files: Iterable[Path], generative_model: Path | None = None) -> bytes:
    """The release record's ``model_digest``: the SHA-256 of the GGUF file a generative
    node serves, or (embedded model) SHA-256 over each file's name, a zero byte and its
    content, in name order."""
    if generative_model is not None:
        return file_sha256(generative_model)
    h = hashes.Hash(hashes.SHA256())
    for path in sorted(files):
        h.update(path.name.encode() + b"\x00")
        _feed_file(h, path)
    return h.finalize()
