"""CUDA backend vs the CPU backend (itself checked against the float64 reference).

Decode steps run the fused kernels of engine/backends/cuda_ops.cu (add + RMSNorm + q8_1,
rope + KV store, split-KV attention + merge + q8_1, SwiGLU + q8_1, the q8_1 fed to
KernelSet.matvec_quantized); multi-token steps the one-kernel attention. The fused ops one
by one: test_cuda_fused_ops.py.

Tolerances, per logit, as |cuda - cpu| <= ATOL + RTOL * max|cpu|:
  dmmv (float activations, float accumulate):             RTOL 2e-3
  mmvq / mmvq-soft (activations rounded to q8_1 per matvec): RTOL 5e-2
  prefill > 8 tokens (fp16 dequantize + fp16 cuBLAS GEMM):   RTOL 5e-2
"""

from __future__ import annotations

import numpy as np
import pytest
from model_fixtures import PROMPT, max_error_ratio, small_model

from engine.backends.spec import BackendSpec, DeviceAssignment
from engine.model import load_model
from engine.quant.table import QUANT_TABLE

pytestmark = pytest.mark.gpu
ATOL = 1e-3
RTOL = {"dmmv": 2e-3, "mmvq": 5e-2, "mmvq-soft": 5e-2, "gemm": 5e-2}
LONG_PROMPT = PROMPT + (11, 12, 13, 14, 15, 250)  # 13 tokens: the GEMM path


def _decode(model, tokens) -> np.ndarray:
    model.reset()
    return np.stack([model.forward([tok], pos) for pos, tok in enumerate(tokens)])  # (T, vocab)


@pytest.mark.parametrize("path", ["mmvq", "dmmv", "mmvq-soft"])
@pytest.mark.parametrize("weight_type", list(QUANT_TABLE))
def test_cuda_matches_cpu_for_every_type_and_path(tmp_path, weight_type, path):
    file = small_model(tmp_path, weight_type)
    cpu = load_model(file, n_ctx=32)
    gpu = load_model(file, BackendSpec.single_gpu(2, path), n_ctx=32)
    try:
        want = cpu.forward(PROMPT, 0, all_logits=True)
        assert max_error_ratio(gpu.forward(PROMPT, 0, all_logits=True), want, ATOL, RTOL[path]) <= 1.0
        # token by token: the first steps run eagerly, later ones replay a captured CUDA graph
        assert max_error_ratio(_decode(gpu, PROMPT), want, ATOL, RTOL[path]) <= 1.0
        gpu.reset()
        long_want = cpu.forward(LONG_PROMPT, 0, all_logits=True)
        assert max_error_ratio(gpu.forward(LONG_PROMPT, 0, all_logits=True), long_want, ATOL, RTOL["gemm"]) <= 1.0
    finally:
        gpu.close()


@pytest.mark.parametrize("weight_type", ["Q4_K", "IQ2_XXS"])
def test_two_logical_devices_and_cpu_layers(tmp_path, weight_type):
    file = small_model(tmp_path, weight_type, n_layers=3)
    want = load_model(file, n_ctx=32).forward(PROMPT, 0, all_logits=True)
    split = BackendSpec("cuda", (DeviceAssignment(0, "mmvq", (0, 1)), DeviceAssignment(0, "dmmv", (1, 2))))
    model = load_model(file, split, n_ctx=32)  # layer 2 and the head stay on the CPU
    try:
        assert [s.ops.name for s in model.segments] == ["cuda", "cuda", "cpu"]
        assert max_error_ratio(model.forward(PROMPT, 0, all_logits=True), want, ATOL, RTOL["mmvq"]) <= 1.0
        assert max_error_ratio(_decode(model, PROMPT), want, ATOL, RTOL["mmvq"]) <= 1.0
    finally:
        model.close()
    middle = BackendSpec("cuda", (DeviceAssignment(0, "dmmv", (1, 3)),))  # layer 0 on the CPU
    model = load_model(file, middle, n_ctx=32)
    try:
        assert [s.ops.name for s in model.segments] == ["cpu", "cuda"]
        assert max_error_ratio(_decode(model, PROMPT), want, ATOL, RTOL["dmmv"]) <= 1.0
    finally:
        model.close()


def test_demo_model_on_gpu_agrees_with_cpu():
    from engine.demo import demo_model_path

    path = demo_model_path()
    if path is None:
        pytest.skip("demo model package not installed")
    tokens = [1, 504, 3458, 282, 4649, 314]
    want = load_model(path, n_ctx=64).forward(tokens, 0, all_logits=True)
    model = load_model(path, BackendSpec.single_gpu(30, "mmvq"), n_ctx=64)
    try:
        got = _decode(model, tokens)
        assert max_error_ratio(got, want, ATOL, RTOL["mmvq"]) <= 1.0
        assert (got.argmax(axis=1) == want.argmax(axis=1)).mean() >= 0.8
    finally:
        model.close()


@pytest.mark.parametrize("path", ["mmvq", "dmmv"])
def test_programmatic_dependent_launch_changes_no_logit(tmp_path, monkeypatch, path):
    """Kernels launched with PDL (sm_90+: each one starts while the previous drains) give the
    same decode logits, bit for bit, as ordinary launches; eager and graph-replayed steps."""
    file = small_model(tmp_path, "Q4_K", n_layers=3)
    results = {}
    for pdl in ("1", "0"):
        monkeypatch.setenv("QUANTLAUNCH_PDL", pdl)
        model = load_model(file, BackendSpec.single_gpu(3, path), n_ctx=32)
        try:
            results[pdl] = (_decode(model, PROMPT), model.segments[0].ops.launch.note)
        finally:
            model.close()
    import cupy

    if cupy.cuda.Device(0).compute_capability >= "90":
        assert results["1"][1] == "on"
    assert results["0"][1] == "off"
    np.testing.assert_array_equal(results["1"][0], results["0"][0])
