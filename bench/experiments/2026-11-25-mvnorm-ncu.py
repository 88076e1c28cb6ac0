"""One launch each of the plain 1-column mmvq and the RMSNorm-fused mmvq (Q4_0, Q4_K at 6144x4096
and 28672x4096), to run under Nsight Compute. Needs 2026-11-25-norm-fusion.patch applied
(the fused kernel was not landed: see bench/results/experiments-2026-11-25.md).

    git apply bench/experiments/2026-11-25-norm-fusion.patch
    ncu --section SpeedOfLight --section WarpStateStats --section Occupancy --csv --page raw \\
        --kernel-name regex:'ql_mmvq_' python3 bench/experiments/2026-11-25-mvnorm-ncu.py > ncu.csv
"""

from __future__ import annotations

import cupy
import numpy as np

from engine.kernels.api import KernelSet, upload_weight
from engine.kernels.reference import random_weight_bytes


def main() -> None:
    ks, rng = KernelSet.for_device(0), np.random.default_rng(0)
    for type_name in ("Q4_0", "Q4_K"):
        for rows, n in ((6144, 4096), (28672, 4096)):
            w = upload_weight(type_name, random_weight_bytes(type_name, rows * n, rng), (rows, n))
            x = cupy.asarray(rng.standard_normal((1, n)).astype(np.float32))  # (1, n) the residual row
            g = cupy.asarray(rng.uniform(0.5, 1.5, n).astype(np.float32))  # (n,) the norm weight
            out = cupy.empty((1, rows), cupy.float32)
            xq, xds = ks.quantize_q8_1(x, type_name)
            ks.matvec_quantized(w, xq, xds, out)
            ks.matvec_norm(w, x, g, 1e-5, out)
            cupy.cuda.runtime.deviceSynchronize()


if __name__ == "__main__":
    main()
