"""IQ2_XXS in GGUF order against the X4 device layout (2026-12-06-seventh-iq2xxs-x4-layout.patch, which
must be applied): chain-timed one-column mmvq at the 8B decode shapes, rows per CTA R in {8, 4, 3},
persistent grid against one CTA per row group; every variant's output compared with GGUF order, R = 8.

usage (repository root, GPU machine): OUT=dir python3 bench/experiments/2026-12-06-seventh-x4-shapes.py
writes OUT/x4-shapes.json; raw results: bench/results/raw-2026-12-06-seventh/x4-layout-shapes.json."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.path.join(os.getcwd(), "bench"))

WRAPPER = ('extern "C" __global__ void __launch_bounds__(QL_THREADS) ql_{tag}_r{r}(const u8* w, long long row_stride, '
           "int rows, int nchunks, const int4* xq, const float2* xds, float* out, int accumulate) "
           "{{ ql_mmvq<{t}, 1, {r}>(w, row_stride, rows, nchunks, xq, xds, out, accumulate); }}")
ROWS_PER_CTA = (8, 4, 3)
LAYOUTS = (("gg", "IQ2_XXS"), ("x4", "IQ2_XXS_X4"))
SHAPES = ((4096, 14336), (4096, 4096), (6144, 4096), (28672, 4096))


def load_module():
    import cupy

    from engine.kernels.build import compile_cubin
    from engine.kernels.sources import ModuleSpec, header_files, module_source
    from engine.kernels.tables import upload_tables

    wrappers = [WRAPPER.format(tag=tag, t=t, r=r) for tag, t in LAYOUTS for r in ROWS_PER_CTA]
    source = module_source(ModuleSpec("iq", "mmvq", columns=(1,))) + "\n".join(wrappers) + "\n"
    start = time.time()
    with open("/tmp/x4.cubin", "wb") as f:
        f.write(compile_cubin(source, header_files(), ("-arch=sm_90", "-std=c++17"), "x4"))
    print(f"compiled in {time.time() - start:.1f} s", flush=True)
    module = cupy.RawModule(path="/tmp/x4.cubin")
    upload_tables(module)
    return module


def weight_copies(raw, shape, l2_bytes, device_layout):
    """Enough copies that a rotation streams 3x the L2 size (bench/matvec.py's rule)."""
    from engine.kernels.api import upload_weight

    first = upload_weight("IQ2_XXS", raw, shape, device_layout=device_layout)
    n = max(1, -(-3 * l2_bytes // raw.nbytes))
    return [first] + [dataclasses.replace(first, data=first.data.copy()) for _ in range(n - 1)]


def variants(module, ks, rows):
    """(tag, R, grid name, kernel, grid) for every layout, R and grid policy."""
    for tag, _ in LAYOUTS:
        for r in ROWS_PER_CTA:
            fn = module.get_function(f"ql_{tag}_r{r}")
            groups = -(-rows // r)
            yield tag, r, "persist", fn, min(groups, ks._resident_ctas(fn, f"{tag}{r}"))
            yield tag, r, "full", fn, groups


def launcher(ks, fn, grid, weights, shape, xq, xds, out, accumulate):
    rows, cols = shape

    def launch(i):
        w = weights[i]
        ks.launch(fn, (grid,), (128,), (w.data, np.int64(w.row_stride), np.int32(rows), np.int32(cols // 32),
                                        xq, xds, out, np.int32(accumulate)))

    return launch


def bench_shape(module, ks, shape, rng, l2_bytes, times, diffs):
    import cupy
    import matvec as mb

    from engine.kernels.reference import random_weight_bytes

    rows, cols = shape
    raw = random_weight_bytes("IQ2_XXS", rows * cols, rng)
    weights = {tag: weight_copies(raw, shape, l2_bytes, tag == "x4") for tag, _ in LAYOUTS}
    x = cupy.asarray(rng.standard_normal((1, cols)).astype(np.float32))  # (1, cols)
    xq, xds = ks.quantize_q8_1(x, "IQ2_XXS")
    outputs = {}
    for tag, r, grid_name, fn, grid in variants(module, ks, rows):
        out = cupy.full((1, rows), np.nan, cupy.float32)  # poisoned
        launcher(ks, fn, grid, weights[tag], shape, xq, xds, out, 0)(0)
        outputs[(tag, r, grid_name)] = cupy.asnumpy(out)
    reference = outputs[("gg", 8, "persist")]
    for key, got in outputs.items():
        diffs[f"{rows}x{cols} {key}"] = float(np.max(np.abs(got - reference)) / (np.max(np.abs(reference)) + 1e-30))
    for _ in range(2):  # two alternating passes
        for tag, r, grid_name, fn, grid in variants(module, ks, rows):
            out = cupy.zeros((1, rows), cupy.float32)
            launch = launcher(ks, fn, grid, weights[tag], shape, xq, xds, out, 1)
            us = mb.chain_time_us(cupy, launch, len(weights[tag]), 32, 10)
            times.setdefault(f"{rows}x{cols} {tag} R{r} {grid_name}", []).append(round(us, 2))


def main():
    import cupy

    from engine.kernels.api import KernelSet

    module, ks = load_module(), KernelSet.for_device(0)
    props = cupy.cuda.runtime.getDeviceProperties(0)
    rng, times, diffs = np.random.default_rng(1), {}, {}
    for shape in SHAPES:
        bench_shape(module, ks, shape, rng, props["l2CacheSize"], times, diffs)
        for key, value in times.items():
            if key.startswith(f"{shape[0]}x{shape[1]} "):
                print(key, value, flush=True)
    print("max rel diff vs gg R8:", max(diffs.values()), flush=True)
    result = {"card": props["name"].decode(), "us": times, "max_rel_diff": diffs}
    with open(os.path.join(os.environ.get("OUT", "."), "x4-shapes.json"), "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
