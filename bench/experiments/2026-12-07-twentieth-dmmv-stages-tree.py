"""A copy of this tree's engine and bench whose one-column dmmv reserves more tile stages (the
experiment of 2026-12-07-twentieth-dmmv-stages-call.sh; not landed code):

    python bench/experiments/2026-12-07-twentieth-dmmv-stages-tree.py DST STAGES

In ql_dmmv (engine/kernels/matvec_dmmv.cuh) the one-column kernels pass ql_rowgroups as many
stages as fit 38 KB with T's table, at most STAGES (2 at least; several columns keep 2). Like
the mmvq reservation (MMVQ_SMEM_STAGES) it applies on sm_90/sm_10x only, and it lowers the CTAs
per SM so ptxas schedules with more registers: at 4, sm_90 registers IQ1_S 56 -> 80, TQ2_0 48
-> 80, Q2_K 64 -> 79, IQ3_XXS 64 -> 89 (NVRTC 13); the types whose two stages already pass
38 KB / 3 (the 4- to 8-bit ones, IQ3_S, Q3_K) are unchanged.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CALL = "    ql_rowgroups<T, NCOLS, R, SMEM_STAGES>(w, row_stride, rows, nchunks, out, accumulate, body);\n}"


def reserving(stages: int) -> str:
    return (f"    constexpr int FIT = (38 * 1024 - QlTableSmem<T>::BYTES) / (R * Tile::BYTES);  // stages in 38 KB\n"
            f"    constexpr int STAGES = NCOLS == 1 ? (FIT < 2 ? 2 : (FIT > {stages} ? {stages} : FIT)) : 2;\n"
            "    ql_rowgroups<T, NCOLS, R, STAGES>(w, row_stride, rows, nchunks, out, accumulate, body);\n}")


def main(dst: Path, stages: int) -> None:
    shutil.rmtree(dst, ignore_errors=True)
    for part in ("engine", "bench"):
        shutil.copytree(ROOT / part, dst / part)
    path = dst / "engine/kernels/matvec_dmmv.cuh"
    text = path.read_text()
    if text.count(CALL) != 1:
        sys.exit(f"{path}: ql_dmmv's ql_rowgroups call not found (the experiment predates a change)")
    path.write_text(text.replace(CALL, reserving(stages)))
    print(f"{dst}: one-column dmmv reserves up to {stages} stages")


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
