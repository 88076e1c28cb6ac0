"""Mat-vec and dequantize kernels on a real GPU against float64 NumPy built on gguf's dequantizer.

Every type x path (mmvq native, mmvq with software dp4a, dmmv) x {1, 2, 8} columns x three
shapes (odd row counts, rows spanning several 4096-element tiles plus a partial one).
Tolerances, with scale = |W| @ |x| (per output) and ref as named:
  mmvq vs ref on the same q8_1-rounded activations:  |y - ref| <= 1e-6 + 2e-5*scale + 1e-5*|ref|
  mmvq vs ref on exact activations: adds the q8_1 rounding bound  sum_k |W_rk| * d_k / 2
  dmmv (and float weights) vs exact:                  |y - ref| <= 1e-6 + 2e-5*scale + 1e-5*|ref|
  dequantize_f16 vs gguf:                             |y - ref| <= 1e-7 + 1e-3*|ref| (f16 rounding)
Output buffers are poisoned with NaN before each run; inputs are fresh random every run
(the seed is in the failure message).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.kernels.reference import accumulation_scale, quantize_q8_1_rows, random_weight
from engine.kernels.sources import family_available
from engine.quant.table import QUANT_TABLE

pytestmark = pytest.mark.gpu
TYPES = [name for name, qt in QUANT_TABLE.items() if family_available(qt.family)]
VARIANTS = ("mmvq", "mmvq-soft", "dmmv")


@pytest.fixture(scope="module")
def kernel_sets():
    from engine.kernels.api import KernelSet

    native, soft = KernelSet.for_device(0), KernelSet.for_device(0, soft_dp4a=True)
    native.precompile(TYPES)  # modules load lazily per family: one family's failure stays its own
    soft.precompile([t for t in TYPES if not QUANT_TABLE[t].is_float])
    return {"mmvq": native, "dmmv": native, "mmvq-soft": soft}


def _fresh_rng() -> tuple[int, np.random.Generator]:
    """A generator on a new random seed (the seed goes into failure messages)."""
    seed = int(np.random.SeedSequence().entropy % 2**32)
    return seed, np.random.default_rng(seed)


def shapes_for(type_name: str) -> list[tuple[int, int]]:
    qk = 32 if QUANT_TABLE[type_name].is_float else QUANT_TABLE[type_name].block_elems
    return [(1, qk), (7, 3 * qk), (37, 4096 + 3 * qk)]


def _check(got, ref, scale, extra, context):
    tolerance = 1e-6 + 2e-5 * scale + 1e-5 * np.abs(ref) + extra
    bad = ~(np.abs(got - ref) <= tolerance)  # NaN counts as bad
    assert not bad.any(), f"{context}: {bad.sum()} of {bad.size} outside tolerance; worst " + str(
        np.nanmax(np.abs(got - ref) - tolerance)
    )


@pytest.mark.parametrize("ncols", [1, 2, 8])
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("type_name", TYPES)
def test_matvec_matches_reference(kernel_sets, type_name, variant, ncols):
    import cupy

    from engine.kernels.api import upload_weight

    seed, rng = _fresh_rng()
    is_float = QUANT_TABLE[type_name].is_float
    if is_float and variant == "mmvq-soft":
        pytest.skip("float weights have no q8_1 path")
    ks = kernel_sets[variant]
    for rows, row_len in shapes_for(type_name):
        context = f"{type_name} {variant} ncols={ncols} {rows}x{row_len} seed={seed}"
        raw, dense = random_weight(type_name, rows, row_len, rng)
        x = (rng.standard_normal((ncols, row_len)) * rng.uniform(0.5, 4)).astype(np.float32)  # (ncols, row_len)
        w = upload_weight(type_name, raw, (rows, row_len), name="test.weight")
        out = cupy.full((ncols, rows), np.nan, dtype=cupy.float32)  # poisoned
        got = cupy.asnumpy(ks.matvec(w, cupy.asarray(x), path=variant, out=out)).astype(np.float64)
        exact = x.astype(np.float64) @ dense.T  # (ncols, rows)
        scale = accumulation_scale(dense, x)
        if variant == "dmmv" or is_float:
            _check(got, exact, scale, 0.0, context + " vs exact")
            continue
        rounded, d = quantize_q8_1_rows(x)
        _check(got, rounded @ dense.T, scale, 0.0, context + " vs q8_1-rounded")
        rounding_bound = (d / 2) @ np.abs(dense).T * 1.0001  # (ncols, rows): max q8_1 rounding effect
        _check(got, exact, scale, rounding_bound, context + " vs exact")


@pytest.mark.parametrize("type_name", TYPES)
def test_dequantize_f16_matches_gguf(kernel_sets, type_name):
    import cupy

    from engine.kernels.api import upload_weight

    seed, rng = _fresh_rng()
    qk = QUANT_TABLE[type_name].block_elems
    rows, row_len = 5, max(qk, 32) * 3
    raw, dense = random_weight(type_name, rows, row_len, rng)
    w = upload_weight(type_name, raw, (rows, row_len))
    got = cupy.asnumpy(kernel_sets["dmmv"].dequantize_f16(w))
    assert got.dtype == np.float16 and got.shape == (rows, row_len)
    np.testing.assert_allclose(got.astype(np.float64), dense, rtol=1e-3, atol=1e-7, err_msg=f"seed={seed}")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("type_name", ["Q4_0", "Q4_K", "IQ2_XXS", "F16"])
def test_matvec_accumulate_adds_to_out(kernel_sets, type_name, variant):
    """accumulate=True: out + W x (the residual add of the decode step), same tolerance as above."""
    import cupy

    from engine.kernels.api import upload_weight

    if QUANT_TABLE[type_name].is_float and variant == "mmvq-soft":
        pytest.skip("float weights have no q8_1 path")
    seed, rng = _fresh_rng()
    rows, row_len = 37, 4096 + 3 * 256
    raw, dense = random_weight(type_name, rows, row_len, rng)
    x = rng.standard_normal((2, row_len)).astype(np.float32)  # (ncols, row_len)
    base = rng.standard_normal((2, rows)).astype(np.float32)  # (ncols, rows): what out holds before
    w = upload_weight(type_name, raw, (rows, row_len))
    out = cupy.asarray(base)
    got = cupy.asnumpy(kernel_sets[variant].matvec(w, cupy.asarray(x), path=variant, out=out, accumulate=True))
    exact = base + x.astype(np.float64) @ dense.T
    bound = 0.0 if variant == "dmmv" or QUANT_TABLE[type_name].is_float else \
        (quantize_q8_1_rows(x)[1] / 2) @ np.abs(dense).T * 1.0001
    _check(got.astype(np.float64), exact, accumulation_scale(dense, x), bound, f"{type_name} {variant} seed={seed}")
    with pytest.raises(ValueError, match="accumulate"):
        kernel_sets[variant].matvec(w, cupy.asarray(x), path=variant, accumulate=True)


@pytest.mark.parametrize("type_name", TYPES)
def test_get_rows_matches_gguf(kernel_sets, type_name):
    """Embedding lookup: the chosen rows (repeats, first and last included), dequantized, equal
    gguf's dequantizer (bit-for-bit up to float32 rounding); bad requests are refused."""
    import cupy

    from engine.kernels.api import upload_weight

    seed, rng = _fresh_rng()
    qk = QUANT_TABLE[type_name].block_elems
    rows, row_len = 11, max(qk, 32) * 2
    raw, dense = random_weight(type_name, rows, row_len, rng)
    w = upload_weight(type_name, raw, (rows, row_len))
    ids = np.array([0, rows - 1, *rng.integers(0, rows, 5), 3, 3], np.int32)
    out = cupy.full((ids.size, row_len), np.nan, dtype=cupy.float32)  # poisoned
    got = cupy.asnumpy(kernel_sets["dmmv"].get_rows(w, cupy.asarray(ids), out=out)).astype(np.float64)
    np.testing.assert_allclose(got, dense[ids], rtol=1e-6, atol=1e-30, err_msg=f"seed={seed}")
    with pytest.raises(ValueError):
        kernel_sets["dmmv"].get_rows(w, cupy.asarray(ids.astype(np.int64)))


def test_matvec_rejects_bad_inputs(kernel_sets):
    import cupy

    from engine.kernels.api import upload_weight

    rng = np.random.default_rng()
    raw, _ = random_weight("Q4_0", 4, 64, rng)
    w = upload_weight("Q4_0", raw, (4, 64), name="blk.0.attn_q.weight")
    ks = kernel_sets["mmvq"]
    for bad_x in (cupy.zeros((1, 32), cupy.float32), cupy.zeros((9, 64), cupy.float32),
                  cupy.zeros((1, 64), cupy.float64), cupy.zeros(64, cupy.float32)):
        with pytest.raises(ValueError, match="blk.0.attn_q.weight"):
            ks.matvec(w, bad_x)
    with pytest.raises(ValueError, match="unknown mat-vec path"):
        ks.matvec(w, cupy.zeros((1, 64), cupy.float32), path="fast")
    with pytest.raises(ValueError, match="out must be"):
        ks.matvec(w, cupy.zeros((2, 64), cupy.float32), out=cupy.zeros((1, 4), cupy.float32))
