"""Mat-vec kernels on a real GPU when every CTA walks MANY row groups (rows far beyond the
resident CTAs): the per-CTA shared-memory copy of an IQ grid is staged once and must serve
every later row group and tile; the double-buffered tile loop runs its steady state.

Same tolerances as test_matvec_gpu.py (scale = |W| @ |x| per output):
  mmvq vs the same q8_1-rounded activations: |y - ref| <= 1e-6 + 2e-5*scale + 1e-5*|ref|
  dmmv vs exact activations:                 |y - ref| <= 1e-6 + 2e-5*scale + 1e-5*|ref|
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.kernels.reference import accumulation_scale, quantize_q8_1_rows, random_weight

pytestmark = pytest.mark.gpu
ROWS = 40_000  # > 132 SMs x 16 resident CTAs x 8 rows per CTA on an H100: every CTA loops
TYPES = ("IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M", "IQ4_XS", "Q4_K")


@pytest.fixture(scope="module")
def kernel_sets():
    from engine.kernels.api import KernelSet

    native, soft = KernelSet.for_device(0), KernelSet.for_device(0, soft_dp4a=True)
    native.precompile(list(TYPES))
    soft.precompile(list(TYPES))
    return {"mmvq": native, "dmmv": native, "mmvq-soft": soft}


@pytest.mark.parametrize("type_name", TYPES)
def test_many_row_groups_per_cta(kernel_sets, type_name):
    import cupy

    from engine.kernels.api import upload_weight

    seed = int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    row_len = 512 + 256  # 3 super-blocks per row
    raw, dense = random_weight(type_name, ROWS, row_len, rng)  # dense: (ROWS, row_len) float64
    w = upload_weight(type_name, raw, (ROWS, row_len), name="test.weight")
    for ncols in (1, 3):
        x = (rng.standard_normal((ncols, row_len)) * rng.uniform(0.5, 4)).astype(np.float32)  # (ncols, row_len)
        scale = accumulation_scale(dense, x)  # (ncols, ROWS)
        rounded, _ = quantize_q8_1_rows(x)
        references = {"dmmv": x.astype(np.float64) @ dense.T, "mmvq": rounded @ dense.T}  # (ncols, ROWS)
        references["mmvq-soft"] = references["mmvq"]
        for variant, ref in references.items():
            out = cupy.full((ncols, ROWS), np.nan, dtype=cupy.float32)  # poisoned
            got = cupy.asnumpy(kernel_sets[variant].matvec(w, cupy.asarray(x), path=variant, out=out))
            tolerance = 1e-6 + 2e-5 * scale + 1e-5 * np.abs(ref)
            bad = ~(np.abs(got.astype(np.float64) - ref) <= tolerance)  # NaN counts as bad
            assert not bad.any(), f"{type_name} {variant} ncols={ncols} seed={seed}: {bad.sum()} bad outputs"
