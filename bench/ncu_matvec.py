"""Why a mat-vec kernel falls short of the copy bandwidth: Nsight Compute numbers per type.

Two modes:

  * ``python bench/ncu_matvec.py launch``: upload a random 16384x4096 weight per type and
    launch each 1-column kernel (mmvq and dmmv) exactly once: the program to run under ncu:

        ncu --section SpeedOfLight --section WarpStateStats --section Occupancy --csv --page raw \\
            --kernel-name regex:'ql_(mmvq|dmmv)_' python3 bench/ncu_matvec.py launch > ncu.csv

  * ``python bench/ncu_matvec.py table ncu.csv [--out results.md]``: the raw CSV as a markdown
    table: DRAM / SM / L1 throughput (% of peak), achieved occupancy and the three largest
    warp stall reasons (cycles per issued instruction), one row per kernel.

ncu locks the clocks to base and flushes the caches before each kernel, so its durations are
not the benchmark's; the ratios say whether a kernel is memory- or instruction-bound.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROWS, ROW_LEN = 16384, 4096  # 64 MiB of Q8_0: fills the card; ncu flushes the caches before each kernel
STALL_PREFIX = "smsp__average_warps_issue_stalled_"
STALL_SUFFIX = "_per_issue_active.ratio"
COLUMNS = {  # table column -> ncu raw metric
    "DRAM %": "gpu__dram_throughput.avg.pct_of_peak_sustained_elapsed",
    "SM %": "sm__throughput.avg.pct_of_peak_sustained_elapsed",
    "L1 %": "l1tex__throughput.avg.pct_of_peak_sustained_active",
    "occupancy %": "sm__warps_active.avg.pct_of_peak_sustained_active",
    "registers": "launch__registers_per_thread",
}


def launch_all() -> int:
    import cupy

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from engine.kernels.api import KernelSet, upload_weight
    from engine.kernels.reference import random_weight_bytes
    from engine.quant.table import QUANT_TABLE

    ks = KernelSet.for_device(0)
    types = [name for name, qt in QUANT_TABLE.items() if not qt.is_float]
    ks.precompile(types)
    rng = np.random.default_rng(0)
    x = cupy.asarray(rng.standard_normal((1, ROW_LEN)).astype(np.float32))  # (1, row_len)
    out = cupy.empty((1, ROWS), dtype=cupy.float32)  # (1, rows)
    for name in types:
        w = upload_weight(name, random_weight_bytes(name, ROWS * ROW_LEN, rng), (ROWS, ROW_LEN))
        xq, xds = ks.quantize_q8_1(x, name)
        ks.matvec_quantized(w, xq, xds, out)
        ks.matvec(w, x, path="dmmv", out=out)
        cupy.cuda.runtime.deviceSynchronize()
        del w
        cupy.get_default_memory_pool().free_all_blocks()
    return 0


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def table(csv_path: Path) -> str:
    lines = csv_path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith('"ID"'))
    rows = list(csv.DictReader(lines[start:]))
    rows = [r for r in rows if (r.get("Kernel Name") or "").startswith("ql_")]  # drop the units row
    out = ["| kernel | " + " | ".join(COLUMNS) + " | largest stalls (cycles per issued instruction) |",
           "|---|" + "---|" * (len(COLUMNS) + 1)]
    for r in rows:
        cells = []
        for metric in COLUMNS.values():
            value = _number(r.get(metric, ""))
            cells.append("-" if value is None else f"{value:.0f}")
        stalls = {k[len(STALL_PREFIX):-len(STALL_SUFFIX)]: _number(v) for k, v in r.items()
                  if k.startswith(STALL_PREFIX) and k.endswith(STALL_SUFFIX) and _number(v) is not None}
        top = sorted(stalls.items(), key=lambda kv: -kv[1])[:3]
        out.append(f"| {r['Kernel Name']} | " + " | ".join(cells) + " | "
                   + ", ".join(f"{k} {v:.1f}" for k, v in top) + " |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("launch", "table"))
    parser.add_argument("csv", nargs="?", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.mode == "launch":
        return launch_all()
    text = table(args.csv)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
