"""Chain-timed costs of the folded RMSNorm (sixth 2026-12-06 session, not landed:
bench/experiments/2026-12-06-sixth-folded-rmsnorm.patch; results in
bench/results/raw-2026-12-06-sixth/foldbench-*.json): per 8B decode shape, 32 back-to-back
one-column mmvq launches in one CUDA graph as plain (with and without the residual add),
producer (the add plus the next norm's q8_1 and chunk squares) and consumer (outputs scaled by
the norm). ``base``: plain only, for a tree without the patch.

    python bench/experiments/2026-12-06-sixth-foldbench.py new|base
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

SHAPES = ((4096, 4096), (4096, 14336), (28672, 4096), (6144, 4096))


def variants(ks, cupy, weights, xq, xds, out, rows: int, cols: int, with_fold: bool) -> dict:
    """name -> the launch(i) of that variant."""
    def plain_acc(i: int) -> None:
        ks.matvec_quantized(weights[i], xq, xds, out, accumulate=True)

    found = {"plain_acc": plain_acc}
    if with_fold:
        from engine.kernels.norm_fold import NormOutput, NormScale  # only in the patched tree

        chunks = rows // 32
        norm_out = NormOutput(cupy.ones(rows, cupy.float32), cupy.empty((1, chunks, 32), cupy.int8),
                              cupy.empty((1, chunks, 2), cupy.float32), cupy.empty(chunks, cupy.float32),
                              cupy.zeros(chunks, cupy.uint32))
        norm_in = NormScale(cupy.ones(cols // 32, cupy.float32), cols, 1e-5)
        found["producer"] = lambda i: ks.matvec_quantized(weights[i], xq, xds, out, accumulate=True, norm_out=norm_out)
        found["consumer"] = lambda i: ks.matvec_quantized(weights[i], xq, xds, out, norm_in=norm_in)
        found["plain"] = lambda i: ks.matvec_quantized(weights[i], xq, xds, out)
    return found


def main(mode: str) -> None:
    sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "bench")]
    import cupy
    import matvec as mb

    from engine.kernels.api import KernelSet
    from engine.kernels.reference import random_weight_bytes

    rng = np.random.default_rng(1)
    l2 = cupy.cuda.runtime.getDeviceProperties(0)["l2CacheSize"]
    ks = KernelSet.for_device(0)
    results = {}
    for type_name in ("Q8_0", "IQ2_XXS"):
        for rows, cols in SHAPES:
            weights = mb.weight_copies(type_name, random_weight_bytes(type_name, rows * cols, rng), (rows, cols), l2)
            xq, xds = ks.quantize_q8_1(cupy.asarray(rng.standard_normal((1, cols)).astype(np.float32)), type_name)
            out = cupy.asarray(rng.standard_normal((1, rows)).astype(np.float32))
            key = f"{type_name} {rows}x{cols} {ks.mmvq_kernel_name(weights[0], 1)}"
            launches = variants(ks, cupy, weights, xq, xds, out, rows, cols, mode == "new")
            results[key] = {name: round(mb.chain_time_us(cupy, launch, len(weights), 32, 10), 2)
                            for name, launch in launches.items()}
            print(mode, key, results[key], flush=True)
    with open(os.path.join(os.environ.get("OUT", "."), f"foldbench-{mode}.json"), "w") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
