"""Measurements: reproducible, and one changed byte changes them."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import pytest

from privproc.attestation.measure import (
    enclave_code_files,
    measure,
    measure_release,
    measure_tree,
    model_digest,
)
from privproc.errors import ConfigError, MisuseError


def _tree(tmp_path: Path) -> tuple[Path, Path]:
    code = tmp_path / "code"
    (code / "pkg").mkdir(parents=True)
    (code / "pkg" / "a.py").write_bytes(b"print('a')\n")
    (code / "b.py").write_bytes(b"B = 1\n")
    models = tmp_path / "models"
    models.mkdir()
    (models / "weights.bin").write_bytes(bytes(1000))
    return code, models


def test_tree_equals_in_memory_form(tmp_path: Path) -> None:
    code, models = _tree(tmp_path)
    on_disk = measure_tree(code, model_dir=models, config=b'{"x":1}')
    in_memory = measure(
        {"pkg/a.py": b"print('a')\n", "b.py": b"B = 1\n"},
        {"weights.bin": bytes(1000)},
        b'{"x":1}',
    )
    assert on_disk == in_memory
    assert len(on_disk) == 48


@pytest.mark.parametrize("target", ["code/b.py", "code/pkg/a.py", "models/weights.bin"])
def test_one_byte_changes_measurement(tmp_path: Path, target: str) -> None:
    code, models = _tree(tmp_path)
    before = measure_tree(code, model_dir=models)
    f = tmp_path / target
    raw = bytearray(f.read_bytes())
    raw[0] ^= 1
    f.write_bytes(bytes(raw))
    assert measure_tree(code, model_dir=models) != before


def test_config_rename_and_new_file_change_measurement(tmp_path: Path) -> None:
    code, models = _tree(tmp_path)
    base = measure_tree(code, model_dir=models, config=b"c")
    assert measure_tree(code, model_dir=models, config=b"d") != base
    (code / "b.py").rename(code / "c.py")
    assert measure_tree(code, model_dir=models, config=b"c") != base
    (code / "c.py").rename(code / "b.py")
    assert measure_tree(code, model_dir=models, config=b"c") == base
    (code / "new.py").write_bytes(b"")
    assert measure_tree(code, model_dir=models, config=b"c") != base


def test_sections_are_separated() -> None:
    # The same file as code or as model gives different measurements.
    assert measure({"f": b"x"}, {}, b"") != measure({}, {"f": b"x"}, b"")


def test_paths_must_be_normalized() -> None:
    with pytest.raises(MisuseError):
        measure({"../etc/passwd": b""}, {}, b"")
    with pytest.raises(MisuseError):  # was an OverflowError from the uint16 length prefix
        measure({"a" * 65536: b""}, {}, b"")
    assert len(measure({"a" * 65535: b""}, {}, b"")) == 48


def test_release_measures_installed_enclave_code() -> None:
    files = enclave_code_files()
    assert "attestation/measure.py" in files
    assert "errors.py" in files
    assert "sealed.py" in files
    assert not any("__pycache__" in p for p in files)
    assert measure_release(config=b"a") == measure_release(config=b"a")
    assert measure_release(config=b"a") != measure_release(config=b"b")


@pytest.mark.parametrize("content", [b"", b"B = 12\n", b"B = 1\n" * 1000])
def test_file_changing_while_measured_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: bytes
) -> None:
    # The size in the length prefix comes from stat(); content read afterwards must match,
    # else the listing is ambiguous (it used to be hashed as it was).
    code, models = _tree(tmp_path)
    target = code / "b.py"
    real_open = Path.open

    def changed_open(self: Path, *args: Any, **kwargs: Any) -> object:
        if self == target:
            return io.BytesIO(content)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", changed_open)
    with pytest.raises(ConfigError, match="changed while"):
        measure_tree(code, model_dir=models)


def test_generative_model_is_measured_and_its_digest_is_the_files(tmp_path: Path) -> None:
    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF" + bytes(5000))
    plain = measure_release()
    with_model = measure_release(generative_model=gguf)
    assert with_model != plain
    assert measure_release(generative_model=gguf) == with_model  # reproducible
    assert model_digest([], gguf) == hashlib.sha256(gguf.read_bytes()).digest()
    gguf.write_bytes(b"GGUF" + bytes(4999) + b"\x01")  # one byte of the weights
    assert measure_release(generative_model=gguf) not in (plain, with_model)
    assert model_digest([], gguf) == hashlib.sha256(gguf.read_bytes()).digest()


def test_embedded_model_digest_covers_names_and_content(tmp_path: Path) -> None:
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    first = model_digest([b, a])
    assert first == model_digest([a, b])  # name order, not argument order
    b.write_bytes(b"twO")
    assert model_digest([a, b]) != first


def test_missing_generative_model_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        measure_release(generative_model=tmp_path / "absent.gguf")
    with pytest.raises(ConfigError):
        model_digest([], tmp_path / "absent.gguf")
