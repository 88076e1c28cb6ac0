"""The long-rows 1-column mmvq (ql_mmvql_<T>_n1) on a real GPU, for every type that has it,
native and software dp4a, replacing and accumulating: shapes of few rows of several tiles
(the launcher's condition), odd row counts and a partial last tile. Tolerance as in
test_matvec_gpu.py, against the same q8_1-rounded activations:
|y - ref| <= 1e-6 + 2e-5*scale + 1e-5*|ref|, scale = |W| @ |x|; with accumulate, ref += out.
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.kernels.reference import accumulation_scale, quantize_q8_1_rows, random_weight
from engine.kernels.sources import mmvq_has_long_rows_kernel
from engine.quant.table import QUANT_TABLE

pytestmark = pytest.mark.gpu
TYPES = sorted(name for name, qt in QUANT_TABLE.items() if not qt.is_float and mmvq_has_long_rows_kernel(qt, 1))


@pytest.fixture(scope="module")
def kernel_sets():
    from engine.kernels.api import KernelSet

    sets = {"native": KernelSet.for_device(0), "soft": KernelSet.for_device(0, soft_dp4a=True)}
    for ks in sets.values():
        ks.precompile(TYPES)
    return sets


def _shapes(type_name: str) -> list[tuple[int, int]]:
    qk = QUANT_TABLE[type_name].block_elems
    tile = 128 * 32  # elements of one tile of QL_THREADS chunks
    return [(1, 2 * tile), (7, 2 * tile + qk), (37, 3 * tile + 5 * qk), (1001, 4 * tile)]


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("variant", ["native", "soft"])
@pytest.mark.parametrize("type_name", TYPES)
def test_long_rows_kernel_matches_reference(kernel_sets, type_name, variant, accumulate):
    import cupy

    from engine.kernels.api import upload_weight

    seed = int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    ks = kernel_sets[variant]
    for rows, row_len in _shapes(type_name):
        raw, dense = random_weight(type_name, rows, row_len, rng)  # dense: (rows, row_len) float64
        w = upload_weight(type_name, raw, (rows, row_len), name="test.weight")
        assert ks.mmvq_kernel_name(w, 1) == f"ql_mmvql_{type_name}_n1"
        x = (rng.standard_normal((1, row_len)) * rng.uniform(0.5, 4)).astype(np.float32)  # (1, row_len)
        base = rng.standard_normal((1, rows)).astype(np.float32) if accumulate else None  # (1, rows)
        out = cupy.asarray(base) if accumulate else cupy.full((1, rows), np.nan, dtype=cupy.float32)  # poisoned
        got = cupy.asnumpy(ks.matvec(w, cupy.asarray(x), path="mmvq", out=out, accumulate=accumulate))
        rounded, _ = quantize_q8_1_rows(x)
        ref = rounded @ dense.T + (base if accumulate else 0.0)  # (1, rows)
        tolerance = 1e-6 + 2e-5 * accumulation_scale(dense, x) + 1e-5 * np.abs(ref)
        ok = np.abs(got.astype(np.float64) - ref) <= tolerance  # NaN counts as bad
        assert ok.all(), f"{type_name} {variant} {rows}x{row_len} accumulate={accumulate} seed={seed}: " \
                         f"{(~ok).sum()} bad outputs"
