"""The numpy all-MiniLM-L6-v2 forward pass against published reference outputs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from privproc.errors import ConfigError, MisuseError
from privproc.workloads import model_files
from privproc.workloads.minilm import MiniLM
from tests._vectors import load_json

REFERENCE = load_json("workloads", "minilm_reference.json")


@pytest.mark.parametrize("case", REFERENCE["embedding_prefix"], ids=lambda c: c["source"])
def test_matches_published_embedding(minilm: MiniLM, case: dict[str, object]) -> None:
    got = minilm.embed([str(case["text"])])[0]
    expected = np.array(case["first5"], dtype=np.float64)
    atol = float(case["atol"])  # type: ignore[arg-type]
    assert atol <= 1e-4  # the published values' own precision, never looser than 1e-4
    assert got.shape == (384,)
    np.testing.assert_allclose(got[:5], expected, atol=atol, rtol=0)


def test_matches_published_similarity_matrix(minilm: MiniLM) -> None:
    case = REFERENCE["similarity"]
    vectors = minilm.embed(case["texts"])
    np.testing.assert_allclose(vectors @ vectors.T, np.array(case["matrix"]), atol=case["atol"])


def test_unit_norm_and_deterministic(minilm: MiniLM) -> None:
    texts = ["Dinner at 7 pm on Thursday.", "La réunion est vendredi à 18h.", "🎂", ""]
    a = minilm.embed(texts)
    b = minilm.embed(texts)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)


def test_batching_and_padding_do_not_change_results(minilm: MiniLM) -> None:
    texts = ["short", "a much longer sentence with many more word pieces in it than the first"]
    together = minilm.embed(texts, batch_size=2)
    alone = np.vstack([minilm.embed([t]) for t in texts])
    np.testing.assert_allclose(together, alone, atol=1e-5)


def test_similar_sentences_are_closer_than_unrelated(minilm: MiniLM) -> None:
    a, b, c = minilm.embed(
        [
            "Can you pick up the kids from school?",
            "Could you collect the children after school?",
            "The quarterly revenue report is attached.",
        ]
    )
    assert a @ b > 0.6
    assert a @ b > a @ c + 0.3


def test_long_text_is_truncated_not_refused(minilm: MiniLM) -> None:
    out = minilm.embed(["word " * 2000])
    assert out.shape == (1, 384)


def test_empty_input_and_misuse(minilm: MiniLM) -> None:
    assert minilm.embed([]).shape == (0, 384)
    with pytest.raises(MisuseError):
        minilm.embed("one string")


def test_model_files_are_the_installed_weights(minilm: MiniLM) -> None:
    files = model_files()
    names = [f.name for f in files]
    assert "model.safetensors" in names
    assert "tokenizer.json" in names
    assert all(f.is_file() for f in files)
    assert files[names.index("model.safetensors")].stat().st_size > 90_000_000


def test_model_files_with_another_architecture_are_refused(minilm: MiniLM, tmp_path: Path) -> None:
    source = model_files()[0].parent
    for name in ("config.json", "1_Pooling/config.json"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text((source / name).read_text())
    config = json.loads((tmp_path / "config.json").read_text())
    config["num_hidden_layers"] = 12
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="num_hidden_layers"):
        MiniLM(tmp_path)
