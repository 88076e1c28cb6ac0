"""The long-rows 1-column mmvq (ql_mmvql_<T>_n1) on a real GPU, for every type that has it,
native and software dp4a, replacing and accumulating: shapes of few rows of several tiles
(the launcher's condition), odd row counts and a partial last tile. Tolerance as in
test_matvec_gpu.py (mmvq_gpu_support.run_one_column_mmvq).
"""

from __future__ import annotations

import pytest

from engine.kernels.sources import mmvq_has_long_rows_kernel
from engine.quant.table import QUANT_TABLE
from tests.kernels.mmvq_gpu_support import assert_one_column_kernel

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
    assert_one_column_kernel(kernel_sets[variant], type_name, _shapes(type_name), f"ql_mmvql_{type_name}_n1", variant,
                             accumulate)
