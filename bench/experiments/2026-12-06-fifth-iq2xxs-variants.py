"""IQ2_XXS mmvq variant microbench (fifth 2026-12-06 session; results in
bench/results/raw-2026-12-06-fifth/iq2xxs-mmvq-variants-*): what the sign ops, the grid
lookups' bank conflicts and the unaligned weight loads of IQ2_XXS's vec_dot cost. Each variant
edits types_iq.cuh in memory as it was before the sign-source change (866de65^); the variants
compute wrong results on purpose, only the base is checked correct.

    python bench/experiments/2026-12-06-fifth-iq2xxs-variants.py build   # compile (no GPU needed)
    python bench/experiments/2026-12-06-fifth-iq2xxs-variants.py run     # time on the GPU
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.getcwd())
sys.path.insert(0, os.path.join(os.getcwd(), "bench"))

from engine.kernels import build, sources  # noqa: E402
from engine.kernels.sources import ModuleSpec  # noqa: E402

HERE = os.path.join(os.getcwd(), ".devrun", "ivar")  # the compiled variants
GRID = "iq_grid32(tab, (indices >> (8 * l)) & 255u)"
SIGN = "iq2_ksign_nibbles((aux >> (7 * l)) & 127u)"
LOADS = """    const u32 indices = load_u32_a2(sub);   // byte l = grid index of group l
    const u32 aux = load_u32_a2(sub + 4);
    int sum = 0;"""
ALIGNED = """    const uint2 both = *(const uint2*)((size_t)sub & ~(size_t)7);
    const u32 indices = both.x, aux = both.y;
    int sum = 0;"""
NOCONF = "iq_grid32(tab, (((indices >> (8 * l)) & 7u) << 5) | (threadIdx.x & 31u))"  # every lane its own bank
CHEAPSIGN = "((aux >> (7 * l)) & 0x04040404u)"  # 2 ops instead of the sign expansion
TABSIGN = "iq_grid32(tab, (aux >> (7 * l)) & 127u)"  # one shared-memory lookup per group


def _loop(grid: str = GRID, sign: str = SIGN) -> str:
    return f"""      const u32 sel = {grid};
      sum = iq2_dot8(sel, {sign}, q + 2 * l, sum);"""


BASE_LOOP = _loop()
VARIANTS = {
    "base": [],
    "noconf": [(BASE_LOOP, _loop(grid=NOCONF))],
    "cheapsign": [(BASE_LOOP, _loop(sign=CHEAPSIGN))],
    "tabsign": [(BASE_LOOP, _loop(sign=TABSIGN))],
    "aligned": [(LOADS, ALIGNED)],
    "noconf_cheapsign": [(BASE_LOOP, _loop(grid=NOCONF, sign=CHEAPSIGN))],
    "all": [(BASE_LOOP, _loop(grid=NOCONF, sign=CHEAPSIGN)), (LOADS, ALIGNED)],
}
SPEC = ModuleSpec("iq", "mmvq", columns=(1,))
SHAPES = ((65536, 4096), (4096, 14336))


def headers_for(name: str) -> dict[str, str]:
    headers = dict(sources.header_files())
    for old, new in VARIANTS[name]:
        if old not in headers["types_iq.cuh"]:
            raise SystemExit(f"{name}: types_iq.cuh is not the tree this script was written for")
        headers["types_iq.cuh"] = headers["types_iq.cuh"].replace(old, new, 1)
    return headers


def do_build(names: list[str]) -> None:
    os.makedirs(HERE, exist_ok=True)
    for name in names:
        cubin = build.compile_cubin(sources.module_source(SPEC), headers_for(name), ("-arch=sm_90", "-std=c++17"), name)
        with open(os.path.join(HERE, name + ".cubin"), "wb") as handle:
            handle.write(cubin)
        print(name, len(cubin), flush=True)


def time_variant(ks, cupy, mb, spin, raw, weights, x) -> tuple[float, float, bool]:
    """(chained us, single us, correct) of the 1-column mmvq of one shape."""
    xq, xds = ks.quantize_q8_1(x, "IQ2_XXS")
    out = cupy.empty((1, weights[0].rows), dtype=cupy.float32)

    def launch(i: int) -> None:
        ks.matvec_quantized(weights[i], xq, xds, out)

    ok = mb.check(ks, weights[0], raw[: weights[0].row_bytes * 64], "IQ2_XXS", cupy.asnumpy(x), "mmvq", cupy)
    return mb.chain_time_us(cupy, launch, len(weights), 32, 20), mb.median_time_us(cupy, spin, launch, len(weights), 20), ok


def do_run(names: list[str]) -> dict[str, list]:
    import cupy
    import matvec as mb

    from engine.kernels.api import KernelSet
    from engine.kernels.reference import random_weight_bytes
    from engine.kernels.tables import upload_tables

    rng = np.random.default_rng(1)
    spin = cupy.RawModule(code=mb.SPIN_SOURCE).get_function("ql_spin")
    l2 = cupy.cuda.runtime.getDeviceProperties(0)["l2CacheSize"]
    data = {}
    for rows, cols in SHAPES:
        raw = random_weight_bytes("IQ2_XXS", rows * cols, rng)
        data[(rows, cols)] = (raw, mb.weight_copies("IQ2_XXS", raw, (rows, cols), l2),
                              cupy.asarray(rng.standard_normal((1, cols)).astype(np.float32)))
    results: dict[str, list] = {}
    for rep in range(2):  # alternating
        for name in names:
            ks = KernelSet(0, 90)
            module = cupy.RawModule(path=os.path.join(HERE, name + ".cubin"))
            upload_tables(module)
            ks._modules[ks._spec("iq", "mmvq")] = module
            for (rows, cols), (raw, weights, x) in data.items():
                chained, single, ok = time_variant(ks, cupy, mb, spin, raw, weights, x)
                key = f"{name} {rows}x{cols}"
                results.setdefault(key, []).append((round(chained, 2), round(single, 2)))
                gb = raw.nbytes / 1e3
                print(f"{rep} {key:34s} chain {chained:7.2f} us ({gb / chained:6.0f} GB/s)  single {single:7.2f} us "
                      f"({gb / single:6.0f} GB/s) correct={ok}", flush=True)
    return results


if __name__ == "__main__":
    mode = sys.argv[1]
    chosen = sys.argv[2].split(",") if len(sys.argv) > 2 and sys.argv[2] else list(VARIANTS)
    if mode == "build":
        do_build(chosen)
    else:
        with open(os.path.join(os.environ.get("OUT", "."), "ivar.json"), "w") as handle:
            json.dump(do_run(chosen), handle, indent=1)
