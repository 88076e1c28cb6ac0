"""Helper of the 1-column mmvq GPU tests (warp kernel, long-rows kernel): one random weight,
one product, checked against float64 on the same q8_1-rounded activations with the tolerance
of test_matvec_gpu.py: |y - ref| <= 1e-6 + 2e-5*scale + 1e-5*|ref|, scale = |W| @ |x|; with
accumulate, ref += out."""

from __future__ import annotations

import numpy as np

from engine.kernels.reference import accumulation_scale, quantize_q8_1_rows, random_weight


def run_one_column_mmvq(ks, type_name: str, rows: int, row_len: int, rng: np.random.Generator, accumulate: bool):
    """(the uploaded weight, bool (1, rows): which outputs are within tolerance; NaN is not)."""
    import cupy

    from engine.kernels.api import upload_weight

    raw, dense = random_weight(type_name, rows, row_len, rng)  # dense: (rows, row_len) float64
    w = upload_weight(type_name, raw, (rows, row_len), name="test.weight")
    x = (rng.standard_normal((1, row_len)) * rng.uniform(0.5, 4)).astype(np.float32)  # (1, row_len)
    base = rng.standard_normal((1, rows)).astype(np.float32) if accumulate else None  # (1, rows)
    out = cupy.asarray(base) if accumulate else cupy.full((1, rows), np.nan, dtype=cupy.float32)  # poisoned
    got = cupy.asnumpy(ks.matvec(w, cupy.asarray(x), path="mmvq", out=out, accumulate=accumulate))
    rounded, _ = quantize_q8_1_rows(x)
    ref = rounded @ dense.T + (base if accumulate else 0.0)  # (1, rows)
    tolerance = 1e-6 + 2e-5 * accumulation_scale(dense, x) + 1e-5 * np.abs(ref)
    return w, np.abs(got.astype(np.float64) - ref) <= tolerance


def assert_one_column_kernel(ks, type_name: str, shapes, kernel: str, label: str, accumulate: bool) -> None:
    """Every (rows, row_len) of ``shapes`` runs on ``kernel`` and is within tolerance (fresh
    random inputs; the seed is in the failure message)."""
    seed = int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    for rows, row_len in shapes:
        w, ok = run_one_column_mmvq(ks, type_name, rows, row_len, rng, accumulate)
        assert ks.mmvq_kernel_name(w, 1) == kernel
        assert ok.all(), f"{type_name} {label} {rows}x{row_len} accumulate={accumulate} seed={seed}: " \
                         f"{(~ok).sum()} bad outputs"
