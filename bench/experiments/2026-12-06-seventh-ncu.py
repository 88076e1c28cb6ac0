"""One launch each of the IQ2_XXS one-column mmvq (R = 8) in GGUF order (ql_gg_r8) and in the X4 device
layout (ql_x4_r8) at 65536x4096 and 4096x4096, to run under ncu with the X4 patch applied
(2026-12-06-seventh-iq2xxs-x4-layout.patch); result: bench/results/raw-2026-12-06-seventh/ncu-iq2xxs-gguf-vs-x4.csv.

    ncu --clock-control none --section SpeedOfLight --section WarpStateStats --section Occupancy \\
        --section SchedulerStats --section MemoryWorkloadAnalysis_Tables --section LaunchStats --csv --page raw \\
        --kernel-name regex:'ql_(gg|x4)_r8' python3 bench/experiments/2026-12-06-seventh-ncu.py > ncu.csv
"""

from __future__ import annotations

import importlib.util
import os
import sys

import numpy as np

sys.path.insert(0, os.getcwd())
HERE = os.path.dirname(os.path.abspath(__file__))


def shapes_script():
    """The shapes script of the same session (its kernel wrapper text)."""
    spec = importlib.util.spec_from_file_location("x4_shapes", os.path.join(HERE, "2026-12-06-seventh-x4-shapes.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    import cupy

    from engine.kernels.api import KernelSet, upload_weight
    from engine.kernels.build import compile_cubin
    from engine.kernels.reference import random_weight_bytes
    from engine.kernels.sources import ModuleSpec, header_files, module_source
    from engine.kernels.tables import upload_tables

    wrappers = [shapes_script().WRAPPER.format(tag=tag, t=t, r=8) for tag, t in (("gg", "IQ2_XXS"), ("x4", "IQ2_XXS_X4"))]
    source = module_source(ModuleSpec("iq", "mmvq", columns=(1,))) + "\n".join(wrappers) + "\n"
    with open("/tmp/ncu.cubin", "wb") as f:
        f.write(compile_cubin(source, header_files(), ("-arch=sm_90", "-std=c++17"), "ncu"))
    module = cupy.RawModule(path="/tmp/ncu.cubin")
    upload_tables(module)
    ks, rng = KernelSet.for_device(0), np.random.default_rng(3)
    for rows, cols in ((65536, 4096), (4096, 4096)):
        raw = random_weight_bytes("IQ2_XXS", rows * cols, rng)
        x = cupy.asarray(rng.standard_normal((1, cols)).astype(np.float32))  # (1, cols)
        xq, xds = ks.quantize_q8_1(x, "IQ2_XXS")
        for tag in ("gg", "x4"):
            w = upload_weight("IQ2_XXS", raw, (rows, cols), device_layout=tag == "x4")
            fn = module.get_function(f"ql_{tag}_r8")
            grid = min(-(-rows // 8), ks._resident_ctas(fn, tag))
            out = cupy.zeros((1, rows), cupy.float32)
            ks.launch(fn, (grid,), (128,), (w.data, np.int64(w.row_stride), np.int32(rows), np.int32(cols // 32),
                                            xq, xds, out, np.int32(0)))
    cupy.cuda.Device().synchronize()


if __name__ == "__main__":
    main()
