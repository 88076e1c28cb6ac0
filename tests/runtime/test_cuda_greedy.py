"""Greedy decoding on the GPU (GPU only): ql_argmax against np.argmax on crafted rows (ties,
NaN, infinities, odd lengths), and LlamaModel.next_token_greedy on the CUDA backend against
np.argmax of the same model's step logits, eager and graph-replayed, both kernel paths."""

from __future__ import annotations

import numpy as np
import pytest
from model_fixtures import PROMPT, small_model

from engine.backends.spec import BackendSpec
from engine.model import load_model

pytestmark = pytest.mark.gpu


def _rows() -> list[np.ndarray]:
    rng = np.random.default_rng(5)
    rows = [rng.standard_normal(n).astype(np.float32) for n in (1, 31, 1000, 32000, 49157)]
    tie = rng.standard_normal(5000).astype(np.float32)
    tie[[17, 2048, 4999]] = 9.0  # the first of equal maxima wins
    nan = rng.standard_normal(3000).astype(np.float32)
    nan[[1500, 2999]] = np.nan  # the first NaN wins over every number
    inf = np.full(777, -np.inf, np.float32)  # all -inf: index 0
    pos_inf = rng.standard_normal(2049).astype(np.float32)
    pos_inf[[3, 2048]] = np.inf
    late = np.zeros(40000, np.float32)
    late[-1] = 1e-30  # the only positive value, last
    return rows + [tie, nan, inf, pos_inf, late]


def test_device_argmax_equals_numpy_argmax():
    from engine.backends.cuda import CudaOps

    ops = CudaOps(0, "mmvq")
    with ops.device, ops.stream:
        for row in _rows():
            token = ops.argmax(ops.upload(row[None, :]))  # (1, n) -> int32 (1,)
            assert ops.download_token(token) == int(np.argmax(row)), row.shape


@pytest.mark.parametrize("path", ["mmvq", "dmmv"])
def test_next_token_greedy_equals_the_argmax_of_the_step_logits(tmp_path, path):
    model = load_model(small_model(tmp_path, "Q4_K", n_layers=3), BackendSpec.single_gpu(3, path), n_ctx=32)
    try:
        tokens = list(PROMPT) * 2  # enough steps for the decode graphs to be captured and replayed
        want = [int(np.argmax(model.forward([tok], pos))) for pos, tok in enumerate(tokens)]
        model.reset()
        assert [model.next_token_greedy(tok, pos) for pos, tok in enumerate(tokens)] == want
        model.reset()  # both kinds of step interleaved: each has its own graph
        for pos, tok in enumerate(tokens):
            step = model.next_token_greedy(tok, pos) if pos % 2 else int(np.argmax(model.forward([tok], pos)))
            assert step == want[pos], pos
    finally:
        model.close()
