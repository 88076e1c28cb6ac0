"""Chain-timed 8B down projection (4096 x 14336, one column, residual add on) of one type under
several kernel choices of this tree (eighteenth 2026-12-07 session): the default KernelSet, the
independent-warp kernel forced with R = 1..4 rows per warp, and the CTA kernel forced with R.
Each variant's output is compared with the default's (max |diff| / max |default|). Run it from
each tree to compare; the warp variants need the type in that tree's sources.MMVQ_WARPS.

    python bench/experiments/2026-12-07-eighteenth-down-sweep.py LABEL   # env TYPE=IQ2_XXS, VARIANTS
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

SHAPE = (4096, 14336)  # (rows, cols) of the 8B feed-forward down projection


def variant_kernelset(KernelSet, variant: str):
    """"default" | "warps-R" | "ctas-R" -> the KernelSet that runs it."""
    if variant == "default":
        return KernelSet.for_device(0)
    layout, rows = variant.split("-")
    return KernelSet.for_device(0, rows_per_block=int(rows), mmvq_layout=layout)


def main(label: str) -> None:
    sys.path[:0] = [os.getcwd(), os.path.join(os.getcwd(), "bench")]
    import cupy
    import matvec as mb

    from engine.kernels.api import KernelSet
    from engine.kernels.reference import random_weight_bytes

    type_name = os.environ.get("TYPE", "IQ2_XXS")
    variants = os.environ.get("VARIANTS", "default,warps-1,warps-2,warps-3,warps-4,ctas-3,ctas-4").split(",")
    rng = np.random.default_rng(1)
    l2 = cupy.cuda.runtime.getDeviceProperties(0)["l2CacheSize"]
    rows, cols = SHAPE
    weights = mb.weight_copies(type_name, random_weight_bytes(type_name, rows * cols, rng), SHAPE, l2)
    reference, results = None, {}
    for variant in variants:
        ks = variant_kernelset(KernelSet, variant)
        xq, xds = ks.quantize_q8_1(cupy.asarray(np.random.default_rng(2).standard_normal((1, cols)).astype(np.float32)),
                                   type_name)
        once = cupy.zeros((1, rows), cupy.float32)
        ks.matvec_quantized(weights[0], xq, xds, once)
        got = cupy.asnumpy(once)
        reference = got if reference is None else reference
        err = float(np.abs(got - reference).max() / np.abs(reference).max())
        out = cupy.zeros((1, rows), cupy.float32)

        def launch(i: int, ks=ks, xq=xq, xds=xds, out=out) -> None:  # bound now: timed right here
            ks.matvec_quantized(weights[i], xq, xds, out, accumulate=True)

        us = mb.chain_time_us(cupy, launch, len(weights), 32, 10)
        name = ks.mmvq_kernel_name(weights[0], 1)
        results[variant] = {"us": round(us, 2), "kernel": name, "grid": ks.mmvq_grid(weights[0], 1), "err": err}
        print(label, type_name, variant, results[variant], flush=True)
    with open(os.path.join(os.environ.get("OUT", "."), f"down-{label}.json"), "w") as handle:
        json.dump(results, handle, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
