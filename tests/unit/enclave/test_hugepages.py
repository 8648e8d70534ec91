"""Issue 18: the node's model weights on huge pages give the same answers, read-only."""

from __future__ import annotations

import numpy as np
import pytest

from privproc.enclave.hugepages import HUGE_PAGE, huge_page_arena, place_on_huge_pages
from privproc.errors import ConfigError
from privproc.workloads.minilm import MiniLM

TEXTS = ["The meeting moved to Friday at noon.", "Bring the blue folder, please."]


def test_arena_is_aligned_zeroed_and_writable() -> None:
    view = huge_page_arena(3 * 4096)
    array = np.frombuffer(view, dtype=np.uint8)
    assert array.ctypes.data % HUGE_PAGE == 0
    assert len(view) == 3 * 4096
    assert not array.any()
    view[0] = 7
    assert array[0] == 7


def test_placed_weights_embed_the_same_and_are_read_only() -> None:
    try:
        model = MiniLM()  # its own copy: the session's shared model stays as it is
    except ConfigError:
        pytest.skip("model weights not installed")
    before = model.embed(TEXTS)
    assert place_on_huge_pages(model)
    after = model.embed(TEXTS)
    assert np.array_equal(before, after)
    with pytest.raises(ValueError, match="read-only"):
        model._layers[0].qkv_w[0, 0] = 1.0
    # one buffer, in order: the last layer's last array sits right after the others
    assert model._word.ctypes.data % HUGE_PAGE == 0
    assert 0 < model._layers[-1].ln2_b.ctypes.data - model._word.ctypes.data < 100 << 20


def test_a_backend_without_place_is_left_alone() -> None:
    assert place_on_huge_pages(object()) is False  # type: ignore[arg-type]
