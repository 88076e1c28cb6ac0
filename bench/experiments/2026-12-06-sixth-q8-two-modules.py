"""Q8_0 one-column mmvq chain-timed at 4096x14336 and 4096x4096 (sixth 2026-12-06 session;
bench/results/raw-2026-12-06-sixth/q8-same-kernel-two-modules.json) from three KernelSets: the
default, rows_per_block=4 (the same R and grid; its module only differs in the kernels of
several columns) and rows_per_block=3. The first two run the same source but not the same
code: ptxas placed the tiles at shared offset 64 in the default module and at 0 in the other,
which led to aligning them to 128 bytes (engine/kernels/matvec_tiles.cuh).

    python bench/experiments/2026-12-06-sixth-q8-two-modules.py
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

SHAPES = ((4096, 14336), (4096, 4096))


def main() -> None:
    sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "bench")]
    import cupy
    import matvec as mb

    from engine.kernels.api import KernelSet
    from engine.kernels.reference import random_weight_bytes
    from engine.quant.table import by_name

    rng = np.random.default_rng(1)
    l2 = cupy.cuda.runtime.getDeviceProperties(0)["l2CacheSize"]
    sets = {"default": KernelSet.for_device(0), "rows4": KernelSet.for_device(0, rows_per_block=4),
            "rows3": KernelSet.for_device(0, rows_per_block=3)}
    data = {}
    for rows, cols in SHAPES:
        raw = random_weight_bytes("Q8_0", rows * cols, rng)
        data[(rows, cols)] = (mb.weight_copies("Q8_0", raw, (rows, cols), l2),
                              cupy.asarray(rng.standard_normal((1, cols)).astype(np.float32)))
    results: dict[str, list[float]] = {}
    for rep in range(3):
        for name, ks in sets.items():
            for (rows, cols), (weights, x) in data.items():
                xq, xds = ks.quantize_q8_1(x, "Q8_0")
                out = cupy.zeros((1, rows), cupy.float32)

                def launch(i: int, ks=ks, weights=weights, xq=xq, xds=xds, out=out) -> None:
                    ks.matvec_quantized(weights[i], xq, xds, out, accumulate=True)

                us = mb.chain_time_us(cupy, launch, len(weights), 32, 10)
                grid = ks._mmvq_kernel(by_name("Q8_0"), 1, rows, cols // 32)[1]
                key = f"{name} {rows}x{cols} {ks.mmvq_kernel_name(weights[0], 1)} grid={grid}"
                results.setdefault(key, []).append(round(us, 2))
                print(rep, key, round(us, 2), flush=True)
    with open(os.path.join(os.environ.get("OUT", "."), "q8-mystery.json"), "w") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main()
