"""Chain-timed one-column mmvq at the 8B decode shapes (sixth 2026-12-06 session; results in
bench/results/raw-2026-12-06-sixth/shapes-*.json): this tree's default KernelSet, each shape
timed as 32 back-to-back launches in one CUDA graph (bench/matvec.py: chain_time_us), the
residual add on. Run it in two trees alternately to compare them on one machine.

    python bench/experiments/2026-12-06-sixth-decode-shapes.py LABEL   # env TYPES=Q8_0,Q4_K,IQ2_XXS
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

SHAPES = ((4096, 14336), (4096, 4096), (6144, 4096), (28672, 4096))  # down, o, qkv, gate+up of the 8B model


def time_shape(ks, mb, cupy, type_name: str, shape: tuple[int, int], rng: np.random.Generator, l2: int) -> float:
    from engine.kernels.reference import random_weight_bytes

    rows, cols = shape
    weights = mb.weight_copies(type_name, random_weight_bytes(type_name, rows * cols, rng), shape, l2)
    xq, xds = ks.quantize_q8_1(cupy.asarray(rng.standard_normal((1, cols)).astype(np.float32)), type_name)
    out = cupy.zeros((1, rows), cupy.float32)

    def launch(i: int) -> None:
        ks.matvec_quantized(weights[i], xq, xds, out, accumulate=True)

    return mb.chain_time_us(cupy, launch, len(weights), 32, 10)


def main(label: str) -> None:
    sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "bench")]
    import cupy
    import matvec as mb

    from engine.kernels.api import KernelSet

    rng = np.random.default_rng(1)
    l2 = cupy.cuda.runtime.getDeviceProperties(0)["l2CacheSize"]
    ks = KernelSet.for_device(0)
    results = {}
    for type_name in os.environ.get("TYPES", "Q8_0,Q4_K,IQ2_XXS").split(","):
        for rows, cols in SHAPES:
            results[f"{type_name} {rows}x{cols}"] = round(time_shape(ks, mb, cupy, type_name, (rows, cols), rng, l2), 2)
        print(label, type_name, {k: v for k, v in results.items() if k.startswith(type_name + " ")}, flush=True)
    with open(os.path.join(os.environ.get("OUT", "."), f"shapes-{label}.json"), "w") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
