"""write_synthetic_model -> inspect_model -> bytes and dequantized values read back, checked
with gguf.GGUFReader and gguf.quants.dequantize (independent of our reader)."""

from __future__ import annotations

import gguf
import numpy as np
import pytest

from engine.diagnostics import DiagnosticError
from engine.model_file import inspect_model
from engine.synth import plan_tensors, synth_tensors, write_synthetic_model
from engine.synth_spec import SynthSpec

MIXED = SynthSpec(
    n_layers=2, n_embd=256, n_head=4, n_head_kv=2, n_ff=512, vocab_size=300, weight_type="Q8_0",
    type_overrides=(("output", "Q6_K"), ("ffn_down", "IQ4_XS"), ("attn_v", "F32"), ("token_embd", "BF16"),
                    ("attn_k", "F16"), ("ffn_gate", "Q4_0")),
)


def _file_bytes(path, tensor) -> np.ndarray:
    raw = np.fromfile(path, dtype=np.uint8, count=tensor.n_bytes, offset=tensor.offset)  # (n_bytes,)
    rows = int(np.prod(tensor.shape[1:]))
    return raw.reshape(rows, -1)  # (rows, bytes per row)


def test_bytes_and_values_round_trip(tmp_path):
    path = write_synthetic_model(tmp_path / "mixed.gguf", MIXED, rng_seed=7)
    info = inspect_model(path)
    reader = {t.name: t for t in gguf.GGUFReader(str(path)).tensors}
    regenerated = list(synth_tensors(MIXED, rng_seed=7))
    assert [t.name for t in info.tensors] == [planned.name for planned, _, _ in regenerated]
    for tensor, (planned, values, written) in zip(info.tensors, regenerated, strict=True):
        assert (tensor.type_name, tensor.shape) == (planned.type_name, planned.shape)
        stored = _file_bytes(path, tensor)
        np.testing.assert_array_equal(stored, written.reshape(stored.shape))
        np.testing.assert_array_equal(stored.reshape(-1), np.asarray(reader[tensor.name].data).view(np.uint8).reshape(-1))
        ggml_type = gguf.GGMLQuantizationType[tensor.type_name]
        decoded = gguf.quants.dequantize(stored, ggml_type).reshape(values.shape)  # (rows, K) float32
        _check_values(tensor.type_name, decoded.astype(np.float64), values.astype(np.float64))


def _check_values(type_name: str, decoded: np.ndarray, original: np.ndarray) -> None:
    assert np.isfinite(decoded).all()
    if type_name == "F32":
        np.testing.assert_array_equal(decoded, original)
        return
    tolerance = {"F16": 1e-3, "BF16": 8e-3, "Q8_0": 1.5e-2, "Q4_0": 0.2}  # relative RMS error of exact quantizers
    if type_name in tolerance:
        rms_error = np.sqrt(np.mean((decoded - original) ** 2)) / np.sqrt(np.mean(original**2))
        assert rms_error < tolerance[type_name], (type_name, rms_error)
    else:  # K/IQ: magnitude-matched random blocks (engine.quant.blocks); the scale must be the input's
        assert 0.3 < np.abs(decoded).max() / np.abs(original).max() < 3.0


def test_same_seed_same_bytes_other_seed_other_bytes():
    spec = SynthSpec(n_layers=1, weight_type="Q8_0")
    first = [data for _, _, data in synth_tensors(spec, 3)]
    again = [data for _, _, data in synth_tensors(spec, 3)]
    other = [data for _, _, data in synth_tensors(spec, 4)]
    assert all(np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not np.array_equal(first[1], other[1])


def test_tensor_names_and_gguf_dims_match_llama_cpp():
    spec = SynthSpec(n_layers=1, n_embd=64, n_head=4, n_head_kv=1, n_ff=96, vocab_size=400)
    shapes = {t.name: t.shape for t in plan_tensors(spec)}
    assert shapes == {
        "token_embd.weight": (64, 400), "blk.0.attn_norm.weight": (64,), "blk.0.attn_q.weight": (64, 64),
        "blk.0.attn_k.weight": (64, 16), "blk.0.attn_v.weight": (64, 16), "blk.0.attn_output.weight": (64, 64),
        "blk.0.ffn_norm.weight": (64,), "blk.0.ffn_gate.weight": (64, 96), "blk.0.ffn_up.weight": (64, 96),
        "blk.0.ffn_down.weight": (96, 64), "output_norm.weight": (64,), "output.weight": (64, 400),
    }


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"weight_type": "Q4_K", "n_embd": 64}, "n_embd=64"),
        ({"type_overrides": (("ffn_down", "IQ2_XS"),), "n_embd": 256, "n_ff": 320}, "n_ff=320"),
        ({"n_head": 5}, "n_head (5)"),
        ({"n_head_kv": 3}, "n_head_kv (3)"),
        ({"vocab_size": 100}, "vocab_size 100"),
        ({"weight_type": "Q9_9"}, "unknown weight type"),
        ({"type_overrides": (("lm_head", "Q8_0"),)}, "'lm_head'"),
        ({"tokenizer": "wordpiece"}, "'wordpiece'"),
        ({"n_layers": 0}, "n_layers"),
    ],
)
def test_bad_spec_names_the_wrong_field(tmp_path, changes, named):
    from dataclasses import replace

    with pytest.raises(DiagnosticError) as caught:
        write_synthetic_model(tmp_path / "bad.gguf", replace(SynthSpec(), **changes))
    assert caught.value.diagnostic.code == "QL-E-SYNTH-SPEC"
    assert named in caught.value.diagnostic.detail
    assert not (tmp_path / "bad.gguf").exists()
