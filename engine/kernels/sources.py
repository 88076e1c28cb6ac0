"""CUDA source text for one kernel module, generated from QUANT_TABLE.

A module is one family of types (``legacy``, ``k``, ``iq``, ``ternary``, ``fp4``, ``float``)
and one kind: ``mmvq`` (q8_1 quantize + mmvq for 1..8 columns; the only code a software
dp4a changes) or ``dmmv`` (dmmv for 1..8 columns + dequantize-to-fp16 + row lookup). The ``extern "C"``
wrappers are written here from the table, so there is no C++ switch to keep in sync, and a
``static_assert`` per type checks the struct's QK/BYTES against the table's row.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from engine.quant.table import QUANT_TABLE, QuantType

KERNEL_DIR = Path(str(resources.files("engine.kernels")))
MAX_COLUMNS = 8
QL_THREADS = 128  # threads per mat-vec CTA (QL_THREADS in matvec_tiles.cuh)
MODULE_KINDS = ("mmvq", "dmmv")
FAMILY_HEADERS = {
    "legacy": "types_legacy.cuh",
    "k": "types_k.cuh",
    "iq": "types_iq.cuh",
    "ternary": "types_ternary.cuh",
    "fp4": "types_fp4.cuh",
    "float": "types_float.cuh",
}
FAMILIES_WITH_TABLES = ("iq", "fp4")  # their modules get engine.kernels.tables.upload_tables()
# Float weights are pseudo-blocks of 32 elements (types_float.cuh), whatever the table says.
FLOAT_PSEUDO_BLOCK = {"F32": (32, 128), "F16": (32, 64), "BF16": (32, 64)}


@dataclass(frozen=True)
class ModuleSpec:
    family: str
    kind: str  # "mmvq" | "dmmv"
    soft_dp4a: bool = False  # only meaningful for kind "mmvq"
    columns: tuple[int, ...] = tuple(range(1, MAX_COLUMNS + 1))  # instantiated column counts
    rows: int = 0  # rows per CTA for every kernel; 0 = rows_per_block()'s choice (a tuning knob)

    def __post_init__(self):
        if self.family not in FAMILY_HEADERS:
            raise ValueError(f"unknown kernel family {self.family!r}")
        if self.kind not in MODULE_KINDS:
            raise ValueError(f"unknown kernel module kind {self.kind!r}")
        if self.family == "float" and self.kind == "mmvq":
            raise ValueError("float weights have no mmvq kernels (they use the float mat-vec)")


# Bytes of one weight tile stage per CTA (R rows x one tile; two stages). 18432 gives R = 8 for
# the 2304-byte tiles of Q4_0/Q4_K (the 8B qkv, 6144 rows, is then one round of 768 groups on
# 792 resident CTAs instead of 878 groups) and R = 4 for Q8_0, with two stages <= 37 KB: still
# 6 CTAs per SM. Measured against 16384: bench/results/ab-rows-per-cta-NVIDIA-H200-2026-12-03.txt.
SMEM_BUDGET = 18432


def rows_per_block(ncols: int, qt: QuantType, override: int = 0) -> int:
    """Output rows per CTA (R in matvec_tiles.cuh): many for 1 column (amortises the CTA, the
    activation loads and the reduction; more bytes in flight), fewer as columns add registers,
    capped so R tiles fit SMEM_BUDGET and a warp's ncols x R sums fit its 32 lanes (ql_reduce_store).
    ``override`` (a tuning knob) replaces the choice by columns; the caps still apply, so a forced
    R compiles for every family and column count."""
    wanted = override or {1: 8, 2: 4}.get(ncols, 2)
    return max(1, min(wanted, SMEM_BUDGET // tile_row_bytes(qt), 32 // ncols))


def tile_row_bytes(qt: QuantType) -> int:
    """Bytes of one row of a CTA tile: QL_THREADS 32-element chunks (matvec_tiles.cuh: QlTile::BYTES)."""
    qk, nbytes = block_shape(qt)
    return (QL_THREADS // (qk // 32)) * nbytes


# Types whose 1-column dmmv keeps x in registers across items when a row is one tile
# (ql_dmmv<..., X_IN_REGS>; the launcher picks it for rows of <= QL_THREADS chunks). Measured
# on an H200 at 65536 x 4096 (bench/results/matvec-ab-NVIDIA-H200-2026-12-03-operands-in-registers.json):
# Q8_0 1.43x, Q5_K 1.31x, Q4_K 1.24x, Q3_K 1.21x, Q6_K 1.11x, Q5_0 1.10x, Q5_1 1.06x,
# IQ2_XXS 1.06x, IQ3_XXS 1.06x, Q4_1 1.04x, Q4_0 1.02x; slower for IQ4_XS 0.85x, IQ1
# 0.93-0.95x, IQ4_NL 0.95x, TQ1_0/TQ2_0 0.95-0.97x (left out with the rest). Rows of several
# tiles reload x per item and lost (0.81-0.94x): they keep the plain kernel. IQ4_NL, IQ4_XS and
# MXFP4 joined with their whole-chunk dot_f32 (types_iq.cuh, types_fp4.cuh): on an H100, 65536 x
# 4096, 55 / 53 / 47 % of copy -> 63 / 63 / 65 % (bench/results/experiments-2026-12-07.md).
DMMV_X_IN_REGISTERS = frozenset(
    {"Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ2_XXS", "IQ3_XXS", "IQ4_NL", "IQ4_XS",
     "MXFP4"}
)


# Types whose plain 1-column dmmv deals a tile's groups of 8 out across the CTA
# (ql_dmmv_spread_groups: coalesced x loads), as every dmmv of several columns does; the others
# keep a chunk per thread. Measured on an H100 against the chunk-per-thread kernel, 1 column,
# best of two alternating runs (bench/results/matvec-ab-NVIDIA-H100-80GB-HBM3-2026-12-06-dmmv-spread.json),
# 4096 x 14336 / 65536 x 4096 (x-in-registers types run that one with their own kernel): F32
# 1.32 / 0.99x, Q6_K 1.23x, Q8_0 1.21x, TQ1_0 1.10 / 1.02x, IQ3_XXS 1.08 / 1.00x, IQ3_S 1.07 /
# 1.00x, Q2_K 1.04 / 1.00x, Q5_0 1.03x. Left out: IQ4_NL, IQ4_XS, MXFP4 0.71-0.84x, IQ1_M
# 0.81-0.87x, IQ2 0.89-0.97x at 65536 x 4096, F16/BF16 0.89x at 4096 x 14336, the rest 0.97-1.01x.
DMMV_SPREAD_1COL = frozenset({"F32", "Q2_K", "Q5_0", "Q6_K", "Q8_0", "TQ1_0", "IQ3_XXS", "IQ3_S"})


# Types whose 1-column mmvq runs on independent warps (ql_mmvq_warps_1col) unless the matrix is
# short: few instructions per weight byte, so the CTA pipeline's barriers are what they wait on.
# Measured on an H200 against the CTA kernel, 1 column x 4096, two alternating runs
# (bench/results/matvec-layout-ab-NVIDIA-H200-2026-12-03.json; row groups per resident warp in
# brackets): Q8_0 1.23x at 131072 rows, 1.24x at 65536, 1.12x at 32768 (2.6), 0.99x at 14336
# (1.1); Q6_K 1.10, 1.09, 1.08, 1.06x (0.9); Q4_1 1.13, 1.12, 1.11, 1.07x (0.8). Left out:
# Q5_K 0.97-1.04x, Q5_0 0.96-1.01x, and from a first A/B at 65536 rows
# (matvec-ab-NVIDIA-H200-2026-12-03-warp-mmvq.json) Q4_0 0.94x, Q5_1 0.93x, Q2_K/Q3_K
# 0.94-0.95x, IQ and TQ 0.86-0.99x. With 4096 rows (0.3 groups per warp) the warp kernel loses
# (Q6_K 0.87x, Q4_1 0.70x at 4096 x 14336): a warp's row share is 4x a CTA's, so most warps
# idle; hence MMVQ_WARPS_MIN_BUSY.
MMVQ_WARPS = frozenset({"Q8_0", "Q6_K", "Q4_1"})
# The warp kernel needs row groups for at least this fraction of its resident warps.
MMVQ_WARPS_MIN_BUSY = 0.5
MMVQ_LAYOUTS = ("auto", "ctas", "warps")  # KernelSet's choice: by shape, or forced (tests, bench)


# One-column mmvq of a matrix with few, long rows (the feed-forward down projection, 4096 x
# 14336) runs with fewer rows per CTA (``ql_mmvql_<T>_n1``, R = MMVQ_LONG_ROWS[T]) for the types
# listed: at the default R = 8 such a matrix has fewer row groups than the device holds CTAs,
# each CTA walks 8 rows of several tiles, and too few warps are resident to hide the latency.
# Chain-timed on an H100, 4096 x 14336, against the default
# (bench/results/rows-sweep-NVIDIA-H100-80GB-HBM3-2026-12-06.json): IQ2_XXS 1.29x with R = 4,
# 1.49x with R = 3; also Q6_K 1.12x, IQ4_XS 1.09x, Q4_K 1.07x with R = 4, but in 8B decode
# (graph replay, two alternating runs, decode-ab-NVIDIA-H100-80GB-HBM3-2026-12-06-long-rows.json)
# R = 4 lost for Q4_K (-1.8 %) and IQ4_XS (-2.2 %) and won for IQ2_XXS (+2.6 %): only IQ2_XXS
# keeps it, with R = 3 (8B decode graph replay on an H200, two alternating runs: 526-527 t/s
# against 517-518 with R = 4; decode-ab-NVIDIA-H200-2026-12-06-rope-in-attention-long-rows-iq2xxs.json).
# With rows of one tile it loses (4096 x 4096: IQ2_XXS 0.81x), and tall matrices keep the
# default (28672 x 4096: IQ2_XXS 0.89x).
MMVQ_LONG_ROWS = {"IQ2_XXS": 3}  # type -> rows per CTA of its long-rows kernel
# Types whose one-column CTA mmvq (ql_mmvq_<T>_n1) reserves shared memory for more tile stages
# than the two it uses (matvec_tiles.cuh: SMEM_STAGES; sm_90 and sm_10x only), so fewer CTAs
# share an SM and ptxas, with registers to spare at that occupancy, schedules the loop with more
# of them.
# IQ2_XXS (R = 8), sm_90: 2 stages 19 KB, 40 registers, 11 CTAs per SM; 3 stages 27.5 KB, 64
# registers, 8 CTAs; 4 stages 36 KB, 68 registers, 6 CTAs. On an H100
# (bench/results/experiments-2026-12-07.md, seventeenth and eighteenth sessions), chain-timed O
# 4096x4096 5.6 / 4.3 / 4.1 us, QKV 6144x4096 6.1 / 5.2 / 5.1, gate/up 28672x4096 16.3 / 16.25 /
# 16.27; 8B IQ2_XXS decode 588-593 / 614-617 / 633-635 t/s (alternating runs).
# The other small-block types of 4 stages, and the 110- and 98-byte blocks of 3 (4 would pass
# the 48 KB of static shared memory), one column, on an H100 (twentieth session,
# bench/results/matvec-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-twentieth.json, % of copy with 2 ->
# 3 -> 4 stages at 65536x4096): TQ2_0 71.2 -> 74.7 -> 77.8, IQ2_XS 59.3 -> 62.4 -> 63.4, IQ1_S
# 44.2 -> 45.4 -> 46.7, IQ2_S 62.6 -> 64.2 -> 65.2, IQ1_M 40.4 -> 41.8 -> 42.0, TQ1_0 37.7 ->
# 37.5 -> 39.0, Q2_K 81.2 -> 81.4 -> 83.0; 14336x4096 with 4 (2 -> 4): Q2_K 45.0 -> 49.2, IQ2_S
# 35.6 -> 41.1, TQ2_0 39.6 -> 41.7, TQ1_0 25.5 -> 24.5. Q3_K, IQ3_XXS, IQ3_S with 3 (2 -> 3):
# 65536x4096 82.0 -> 84.4, 57.9 -> 60.3, 62.2 -> 63.5; 14336x4096 45.3 -> 49.3, 34.6 -> 38.2,
# 38.3 -> 40.5; 4096x14336 the same within 1 point.
MMVQ_SMEM_STAGES = {
    "IQ2_XXS": 4, "IQ2_XS": 4, "IQ2_S": 4, "IQ1_S": 4, "IQ1_M": 4, "TQ1_0": 4, "TQ2_0": 4, "Q2_K": 4,
    "Q3_K": 3, "IQ3_XXS": 3, "IQ3_S": 3,
}
# The same for the one-column dmmv (ql_dmmv_<T>_n1 and ql_dmmvr_<T>_n1): 3 stages where they fit
# the 48 KB (not Q6_K, IQ4_NL, IQ4_XS, MXFP4: 50-55 KB) and measured faster. On an H100, best of
# two alternating runs, us at 65536x4096 / 14336x4096 / 4096x14336, 2 -> 3 stages
# (bench/results/matvec-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-twentyfirst.json): IQ3_XXS 1.05 /
# 1.07 / 1.05x, IQ2_S 1.06 / 1.03 / 1.05x, IQ2_XS 1.03 / 1.02 / 1.02x, Q2_K 1.03 / 1.08 / 1.00x,
# TQ2_0 1.00 / 1.06 / 1.01x, IQ1_M 1.01 / 1.08 / 1.00x; in a second A/B IQ3_S 1.04 / 1.06 /
# 1.04x, Q3_K 1.02 / 1.01 / 1.05x. 4 stages: within 1 % of 3 for those (4 ran in the 38 KB run
# only). Left at two: IQ2_XXS 1.00x, TQ1_0 1.00 / 1.00 / 0.99x, IQ1_S 0.98 / 0.92 / 1.00x (4
# stages: 1.01 / 1.00 / 1.03x, too little and too mixed to take).
DMMV_SMEM_STAGES = {"IQ1_M": 3, "IQ2_XS": 3, "IQ2_S": 3, "IQ3_XXS": 3, "IQ3_S": 3, "Q2_K": 3, "Q3_K": 3, "TQ2_0": 3}
MMVQ_LONG_ROWS_MIN_TILES = 2  # rows of at least this many tiles of QL_THREADS chunks
MMVQ_LONG_ROWS_MAX_GROUPS_PER_SM = 8  # and at most this many default row groups per SM


def mmvq_has_long_rows_kernel(qt: QuantType, ncols: int, override: int = 0) -> bool:
    """Whether the mmvq module has ql_mmvql_<T>_n1: one column, a type of MMVQ_LONG_ROWS, and
    no forced R (a bench knob that applies to every kernel)."""
    return ncols == 1 and not override and qt.name in MMVQ_LONG_ROWS


def mmvq_uses_long_rows(qt: QuantType, ncols: int, rows: int, nchunks: int, n_sm: int, override: int = 0) -> bool:
    """Whether a CTA-layout mmvq of ``rows`` rows of ``nchunks`` chunks runs on the long-rows
    kernel: rows of at least MMVQ_LONG_ROWS_MIN_TILES tiles and at most
    MMVQ_LONG_ROWS_MAX_GROUPS_PER_SM default row groups per SM."""
    if not mmvq_has_long_rows_kernel(qt, ncols, override):
        return False
    tiles = -(-nchunks // QL_THREADS)
    groups = -(-rows // rows_per_block(ncols, qt))
    return tiles >= MMVQ_LONG_ROWS_MIN_TILES and groups <= MMVQ_LONG_ROWS_MAX_GROUPS_PER_SM * n_sm


def checked_mmvq_layout(layout: str) -> str:
    if layout not in MMVQ_LAYOUTS:
        raise ValueError(f"unknown mmvq layout {layout!r}; expected one of {', '.join(MMVQ_LAYOUTS)}")
    return layout


def mmvq_has_warp_kernel(qt: QuantType, ncols: int) -> bool:
    return ncols == 1 and qt.name in MMVQ_WARPS


def mmvq_uses_warps(qt: QuantType, ncols: int, row_groups: int, resident_warps: int, layout: str = "auto") -> bool:
    """Whether an mmvq of ``row_groups`` groups of R rows runs on the warp kernel: forced by
    ``layout`` ("warps" where the type has one, "ctas"), else when at least MMVQ_WARPS_MIN_BUSY
    of the kernel's resident warps get a row group."""
    if checked_mmvq_layout(layout) == "ctas" or not mmvq_has_warp_kernel(qt, ncols):
        return False
    return layout == "warps" or row_groups >= MMVQ_WARPS_MIN_BUSY * resident_warps


def dmmv_kernel_name(qt: QuantType, ncols: int, nchunks: int) -> str:
    """The dmmv wrapper for ``ncols`` columns of rows of ``nchunks`` 32-element chunks: the
    x-in-registers one for one column of one-tile rows of a DMMV_X_IN_REGISTERS type."""
    if ncols == 1 and nchunks <= QL_THREADS and qt.name in DMMV_X_IN_REGISTERS:
        return kernel_name("dmmvr", qt.name, 1)
    return kernel_name("dmmv", qt.name, ncols)


def block_shape(qt: QuantType) -> tuple[int, int]:
    """(elements, bytes) of a block as the kernels see it (pseudo-blocks for float types)."""
    return FLOAT_PSEUDO_BLOCK.get(qt.name, (qt.block_elems, qt.block_bytes))


def kernel_name(kind: str, type_name: str, ncols: int = 0) -> str:
    """Name of a generated wrapper: ``ql_mmvq_Q4_0_n2``, ``ql_mmvqw_Q8_0_n1`` (independent warps,
    mmvq_uses_warps), ``ql_mmvql_Q4_0_n1`` (few long rows, mmvq_uses_long_rows),
    ``ql_dmmv_F16_n1``, ``ql_dmmvr_Q4_K_n1`` (x in registers, dmmv_kernel_name), ``ql_f16_Q6_K``,
    ``ql_rows_Q6_K``."""
    if kind in ("f16", "rows"):
        return f"ql_{kind}_{type_name}"
    return f"ql_{kind}_{type_name}_n{ncols}"


def family_types(family: str) -> tuple[QuantType, ...]:
    return tuple(qt for qt in QUANT_TABLE.values() if qt.family == family)


def header_path(family: str) -> Path:
    return KERNEL_DIR / FAMILY_HEADERS[family]


def family_available(family: str) -> bool:
    return header_path(family).is_file()


def _reserved_stages(table: dict[str, int], qt: QuantType, ncols: int, override: int) -> int:
    """``table``'s stages for one column at the default R; 2 (the stages used) otherwise, and with
    a forced R (a bench knob: more rows could not reserve more stages within 48 KB). The kernel
    applies it on sm_90 and sm_10x only (228 KB per SM); elsewhere it keeps two (matvec_tiles.cuh)."""
    return table.get(qt.name, 2) if ncols == 1 and not override else 2


def mmvq_smem_stages(qt: QuantType, ncols: int, override: int = 0) -> int:
    """Tile stages the shared memory of ``qt``'s CTA-layout mmvq of ``ncols`` columns is sized for
    (MMVQ_SMEM_STAGES)."""
    return _reserved_stages(MMVQ_SMEM_STAGES, qt, ncols, override)


def dmmv_smem_stages(qt: QuantType, ncols: int, override: int = 0) -> int:
    """The same for ``qt``'s dmmv (DMMV_SMEM_STAGES)."""
    return _reserved_stages(DMMV_SMEM_STAGES, qt, ncols, override)


def _stages_arg(stages: int) -> str:
    """The template argument after the others; none for 2, the template's default (the source of
    the types without a reservation stays unchanged)."""
    return f", {stages}" if stages != 2 else ""


def _mmvq_wrappers(qt: QuantType, columns: tuple[int, ...], rows: int) -> list[str]:
    lines, type_name = [], qt.name
    for n in columns:
        r = rows_per_block(n, qt, rows)
        lines.append(
            f'extern "C" __global__ void __launch_bounds__(QL_THREADS) {kernel_name("mmvq", type_name, n)}('
            "const u8* w, long long row_stride, int rows, int nchunks, const int4* xq, const float2* xds, "
            f"float* out, int accumulate) {{ ql_mmvq<{type_name}, {n}, {r}{_stages_arg(mmvq_smem_stages(qt, n, rows))}>(w, "
            "row_stride, rows, nchunks, xq, xds, out, accumulate); }"
        )
        if mmvq_has_long_rows_kernel(qt, n, rows):
            lines.append(
                f'extern "C" __global__ void __launch_bounds__(QL_THREADS) {kernel_name("mmvql", type_name, 1)}('
                "const u8* w, long long row_stride, int rows, int nchunks, const int4* xq, const float2* xds, "
                f"float* out, int accumulate) {{ ql_mmvq<{type_name}, 1, {MMVQ_LONG_ROWS[type_name]}>(w, row_stride, rows, "
                "nchunks, xq, xds, out, accumulate); }"
            )
        if mmvq_has_warp_kernel(qt, n):
            lines.append(
                f'extern "C" __global__ void __launch_bounds__(QL_THREADS) {kernel_name("mmvqw", type_name, 1)}('
                "const u8* w, long long row_stride, int rows, int nchunks, const int4* xq, const float2* xds, "
                f"float* out, int accumulate) {{ ql_mmvq_warps_1col<{type_name}, {r}>(w, row_stride, rows, nchunks, "
                "xq, xds, out, accumulate); }"
            )
    return lines


def _dmmv_wrappers(qt: QuantType, columns: tuple[int, ...], rows: int) -> list[str]:
    lines, type_name, with_f16 = [], qt.name, not qt.is_float
    for n in columns:
        r = rows_per_block(n, qt, rows)
        spread = "true" if n > 1 or type_name in DMMV_SPREAD_1COL else "false"
        staged = _stages_arg(dmmv_smem_stages(qt, n, rows))
        lines.append(
            f'extern "C" __global__ void __launch_bounds__(QL_THREADS) {kernel_name("dmmv", type_name, n)}('
            "const u8* w, long long row_stride, int rows, int nchunks, const float4* x, float* out, int accumulate) "
            f"{{ ql_dmmv<{type_name}, {n}, {r}, false, {spread}{staged}>(w, row_stride, rows, nchunks, x, out, "
            "accumulate); }"
        )
        if n == 1 and type_name in DMMV_X_IN_REGISTERS:
            regs_args = f"true, false{staged}" if staged else "true"
            lines.append(
                f'extern "C" __global__ void __launch_bounds__(QL_THREADS) {kernel_name("dmmvr", type_name, 1)}('
                "const u8* w, long long row_stride, int rows, int nchunks, const float4* x, float* out, "
                f"int accumulate) {{ ql_dmmv<{type_name}, 1, {r}, {regs_args}>(w, row_stride, rows, nchunks, x, "
                "out, accumulate); }"
            )
    lines.append(
        f'extern "C" __global__ void {kernel_name("rows", type_name)}('
        "const u8* w, long long row_stride, int rows, int row_len, const int* ids, int n_ids, float4* out) "
        f"{{ ql_get_rows<{type_name}>(w, row_stride, rows, row_len, ids, n_ids, out); }}"
    )
    if with_f16:
        lines.append(
            f'extern "C" __global__ void {kernel_name("f16", type_name)}('
            "const u8* w, long long row_stride, int rows, int row_len, uint4* out) "
            f"{{ ql_dequant_f16<{type_name}>(w, row_stride, rows, row_len, out); }}"
        )
    return lines


def module_source(spec: ModuleSpec) -> str:
    """The translation unit for one module: includes, table checks, wrappers."""
    lines = ['#include "common.cuh"', '#include "matvec.cuh"']
    if spec.family in FAMILIES_WITH_TABLES and (KERNEL_DIR / "tables.cuh").is_file():
        lines.append('#include "tables.cuh"')
    lines.append(f'#include "{FAMILY_HEADERS[spec.family]}"')
    for qt in family_types(spec.family):
        qk, nbytes = block_shape(qt)
        lines.append(
            f"static_assert({qt.name}::QK == {qk} && {qt.name}::BYTES == {nbytes}, "
            f'"{qt.name}: block size in {FAMILY_HEADERS[spec.family]} differs from the quant table");'
        )
        if spec.kind == "mmvq":
            lines += _mmvq_wrappers(qt, spec.columns, spec.rows)
        else:
            lines += _dmmv_wrappers(qt, spec.columns, spec.rows)
    return "\n".join(lines) + "\n"


def module_specs(families: tuple[str, ...] | None = None, soft_too: bool = True, **fields) -> list[ModuleSpec]:
    """Every module of the available families: (family, kind) plus the software-dp4a mmvq."""
    specs = []
    for family in families or tuple(f for f in FAMILY_HEADERS if family_available(f)):
        for kind in MODULE_KINDS:
            if family == "float" and kind == "mmvq":
                continue
            specs.append(ModuleSpec(family, kind, **fields))
            if kind == "mmvq" and soft_too:
                specs.append(ModuleSpec(family, kind, soft_dp4a=True, **fields))
    return specs


def header_files() -> dict[str, str]:
    """Every .cuh of the kernel directory: name -> text (NVRTC gets them as in-memory headers)."""
    return {p.name: p.read_text() for p in sorted(KERNEL_DIR.glob("*.cuh"))}
