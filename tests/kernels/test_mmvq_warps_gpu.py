"""The independent-warp 1-column mmvq (ql_mmvq_warps_1col) on a real GPU, forced for every type
that has it (native and software dp4a), and the launcher's shape-based choice of it.

Shapes: one block; odd row counts; rows of several 32-chunk warp tiles plus a partial one (the
tile then starts mid 16-byte word); rows far beyond the resident warps (every warp walks many
row groups). Tolerance as in test_matvec_gpu.py (mmvq_gpu_support.run_one_column_mmvq).
"""

from __future__ import annotations

import numpy as np
import pytest

from engine.kernels.sources import MMVQ_WARPS, rows_per_block
from engine.quant.table import QUANT_TABLE
from tests.kernels.mmvq_gpu_support import assert_one_column_kernel, run_one_column_mmvq

pytestmark = pytest.mark.gpu
TYPES = sorted(MMVQ_WARPS)


@pytest.fixture(scope="module")
def kernel_sets():
    from engine.kernels.api import KernelSet

    sets = {"warps": KernelSet.for_device(0, mmvq_layout="warps"),
            "warps-soft": KernelSet.for_device(0, soft_dp4a=True, mmvq_layout="warps"),
            "auto": KernelSet.for_device(0)}
    for ks in sets.values():
        ks.precompile(TYPES)
    return sets


def _shapes(type_name: str) -> list[tuple[int, int]]:
    qk = QUANT_TABLE[type_name].block_elems
    return [(1, qk), (7, 3 * qk), (37, 4096 + 3 * qk), (1000, 32 * 32 + qk), (40_000, 2 * qk)]


@pytest.mark.parametrize("accumulate", [False, True])
@pytest.mark.parametrize("variant", ["warps", "warps-soft"])
@pytest.mark.parametrize("type_name", TYPES)
def test_forced_warp_kernel_matches_reference(kernel_sets, type_name, variant, accumulate):
    assert_one_column_kernel(kernel_sets[variant], type_name, _shapes(type_name), f"ql_mmvqw_{type_name}_n1", variant,
                             accumulate)


@pytest.mark.parametrize("type_name", TYPES)
def test_auto_layout_takes_the_warp_kernel_for_tall_matrices_only(kernel_sets, type_name):
    seed = int(np.random.SeedSequence().entropy % 2**32)
    rng = np.random.default_rng(seed)
    ks, qk = kernel_sets["auto"], QUANT_TABLE[type_name].block_elems
    short, ok_short = run_one_column_mmvq(ks, type_name, 64, qk, rng, False)  # fewer row groups than resident warps
    tall, ok_tall = run_one_column_mmvq(ks, type_name, 200_000, qk, rng, False)  # >= 40000 groups: > 10 per warp on an H200
    assert ks.mmvq_kernel_name(short, 1) == f"ql_mmvq_{type_name}_n1"
    assert ks.mmvq_kernel_name(tall, 1) == f"ql_mmvqw_{type_name}_n1"
    assert ks.mmvq_kernel_name(tall, 2) == f"ql_mmvq_{type_name}_n2"  # several columns: the CTA kernel
    assert ok_short.all() and ok_tall.all(), f"{type_name} seed={seed}"
    import cupy

    n_sm = cupy.cuda.runtime.getDeviceProperties(0)["multiProcessorCount"]
    assert ks.mmvq_grid(short, 1) == -(-64 // rows_per_block(1, QUANT_TABLE[type_name]))  # a CTA per row group
    assert ks.mmvq_grid(tall, 1) % n_sm == 0  # persistent: as many CTAs on every SM
