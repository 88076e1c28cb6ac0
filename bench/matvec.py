"""Mat-vec benchmark: effective weight bandwidth of every type x path on one GPU.

For each type x path (mmvq, dmmv, mmvq-soft; float weights: dmmv = the float mat-vec) x shape
(65536x4096, 14336x4096, 4096x14336 as rows x row_len) x ncols (1, 8): check the result
against float64 NumPy on the first rows, then time the mat-vec kernel alone with CUDA events
(median of REPS; a spin kernel keeps the queue full so launch gaps are not timed; several
weight copies rotate so that at least 3x the L2 size is streamed). GB/s = weight bytes / time.
The q8_1 quantization of the activations is timed separately (quant_us). The card's
device-to-device copy bandwidth (2 x bytes / time) is measured in the same run. With
``--chain N`` a mat-vec is timed instead as N back-to-back launches in one CUDA graph (per
launch), as inside a decode step, where one straggler round of CTAs shows more than after a spin.
Each record also names the mmvq kernel and its grid (CTAs), and carries the SM clock read right
after its timing with NVML's reasons for holding it down (sm_mhz, clock_reasons: bench/card_info.py).

    python bench/matvec.py [--out bench/results] [--types Q4_0,Q4_K] [--reps 20] [--chain 32]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import re
import sys
from pathlib import Path

import numpy as np
from card_info import ClockProbe

SHAPES = ((65536, 4096), (14336, 4096), (4096, 14336))
NCOLS = (1, 8)
CHECK_ROWS = 64
SPIN_SOURCE = r"""
extern "C" __global__ void ql_spin(long long cycles) {
    const long long start = clock64();
    while (clock64() - start < cycles) { }
}
"""


def copy_bandwidth(cupy, nbytes: int = 1 << 30, reps: int = 10) -> float:
    src = cupy.ones(nbytes // 4, dtype=cupy.float32)
    dst = cupy.empty_like(src)
    times = []
    for _ in range(reps):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record()
        dst[...] = src
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end) * 1e-3)
    return 2 * nbytes / float(np.median(times)) / 1e9  # read + write


def median_time_us(cupy, spin, launch, copies: int, reps: int) -> float:
    for i in range(3):
        launch(i % copies)
    times = []
    for i in range(reps):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        spin((1,), (1,), (np.int64(400_000),))  # ~0.2 ms of queue ahead of the timed launch
        start.record()
        launch(i % copies)
        end.record()
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end) * 1e3)
    return float(np.median(times))


def chain_time_us(cupy, launch, copies: int, chain: int, reps: int) -> float:
    """Per-launch us of ``chain`` back-to-back launches captured in one CUDA graph, rotating the
    weight copies: the decode step's situation (each mat-vec starts while the one before drains,
    with programmatic dependent launch on sm_90+), not one launch after an idle queue."""
    stream = cupy.cuda.Stream(non_blocking=True)
    with stream:
        launch(0)  # modules load and grids are sized outside the capture
        stream.begin_capture()
        for i in range(chain):
            launch(i % copies)
        graph = stream.end_capture()
    times = []
    for _ in range(reps + 2):
        start, end = cupy.cuda.Event(), cupy.cuda.Event()
        start.record(stream)
        graph.launch(stream)
        end.record(stream)
        end.synchronize()
        times.append(cupy.cuda.get_elapsed_time(start, end) * 1e3 / chain)
    return float(np.median(times[2:]))  # the first two replays warm up


def check(ks, w, raw_rows: np.ndarray, type_name: str, x: np.ndarray, path: str, cupy) -> bool:
    """Result on the first CHECK_ROWS rows vs float64 (dmmv tolerance + the q8_1 rounding bound)."""
    from gguf import quants

    from engine.kernels.api import upload_weight
    from engine.kernels.reference import accumulation_scale, quantize_q8_1_rows
    from engine.quant.table import QUANT_TABLE

    qt = QUANT_TABLE[type_name]
    rows = min(CHECK_ROWS, w.rows)
    dense = quants.dequantize(raw_rows.reshape(-1, qt.block_bytes), qt.ggml_type).reshape(rows, w.row_len)
    small = upload_weight(type_name, raw_rows, (rows, w.row_len))
    got = cupy.asnumpy(ks.matvec(small, cupy.asarray(x), path=path)).astype(np.float64)  # (ncols, rows)
    exact = x.astype(np.float64) @ dense.astype(np.float64).T
    tolerance = 1e-6 + 2e-5 * accumulation_scale(dense.astype(np.float64), x) + 1e-5 * np.abs(exact)
    if path.startswith("mmvq") and not qt.is_float:
        _, d = quantize_q8_1_rows(x)
        tolerance = tolerance + (d / 2) @ np.abs(dense.astype(np.float64)).T * 1.0001
    return bool(np.all(np.abs(got - exact) <= tolerance))


def time_path(ks, weights: list, x_dev, path: str, type_name: str, cupy, spin, args) -> tuple[float, float]:
    """(mat-vec kernel us, q8_1 quantize us) for one path; weights rotate over the copies. With
    ``args.chain`` the mat-vec is timed as chain_time_us (the quantize stays a single launch)."""
    ncols, rows = x_dev.shape[0], weights[0].rows
    out = cupy.empty((ncols, rows), dtype=cupy.float32)  # (ncols, rows)

    def timed(launch, copies: int) -> float:
        if args.chain:
            return chain_time_us(cupy, launch, copies, args.chain, args.reps)
        return median_time_us(cupy, spin, launch, copies, args.reps)

    if path == "dmmv" or weights[0].type_name in ("F32", "F16", "BF16"):
        return timed(lambda i: ks.matvec(weights[i], x_dev, path="dmmv", out=out), len(weights)), 0.0
    xq, xds = ks.quantize_q8_1(x_dev, type_name)
    us = timed(lambda i: ks.matvec_quantized(weights[i], xq, xds, out), len(weights))
    return us, median_time_us(cupy, spin, lambda i: ks.quantize_q8_1(x_dev, type_name), 1, args.reps)


def weight_copies(type_name: str, raw: np.ndarray, shape: tuple[int, int], l2_bytes: int) -> list:
    """Enough device copies of one weight that a rotation streams at least 3x the L2 size."""
    from engine.kernels.api import upload_weight

    first = upload_weight(type_name, raw, shape)
    copies = max(1, -(-3 * l2_bytes // raw.nbytes))
    return [first] + [dataclasses.replace(first, data=first.data.copy()) for _ in range(copies - 1)]


def bench_shape(type_name: str, raw: np.ndarray, shape: tuple[int, int], args, cupy, spin) -> list[dict]:
    from engine.quant.table import QUANT_TABLE

    qt, rng = QUANT_TABLE[type_name], np.random.default_rng()
    rows, row_len = shape
    paths = ("dmmv",) if qt.is_float else tuple(p for p in ("mmvq", "dmmv", "mmvq-soft") if p in args.paths)
    weights = weight_copies(type_name, raw, shape, args.l2_bytes)
    check_raw = raw[: qt.tensor_bytes(min(CHECK_ROWS, rows) * row_len)]  # first rows' bytes
    records = []
    for ncols in args.ncols:
        x = rng.standard_normal((ncols, row_len)).astype(np.float32)  # (ncols, row_len)
        x_dev = cupy.asarray(x)
        for path in paths:
            ks = args.kernel_sets["mmvq-soft" if path == "mmvq-soft" else "native"]
            ok = check(ks, weights[0], check_raw, type_name, x, path, cupy)
            us, quant_us = time_path(ks, weights, x_dev, path, type_name, cupy, spin, args)
            gbps = raw.nbytes / (us * 1e-6) / 1e9
            on_mmvq = path != "dmmv" and not qt.is_float
            records.append({"type": type_name, "path": path, "rows": rows, "cols": row_len, "ncols": ncols,
                            "us": round(us, 2), "quant_us": round(quant_us, 2), "gbps": round(gbps, 1),
                            "copy_gbps": round(args.copy_gbps, 1), "pct_of_copy": round(100 * gbps / args.copy_gbps, 1),
                            "card": args.card, "timing": f"chain{args.chain}" if args.chain else "single", "correct": ok,
                            "kernel": ks.mmvq_kernel_name(weights[0], ncols) if on_mmvq else "",
                            "grid": ks.mmvq_grid(weights[0], ncols) if on_mmvq else 0,
                            **args.clocks.read()})  # the SM clock right after the timing, and why it is held down
            print(json.dumps(records[-1]), flush=True)
    return records


def bench_type(type_name: str, args, cupy, spin) -> list[dict]:
    from engine.kernels.reference import random_weight_bytes
    from engine.quant.table import QUANT_TABLE

    qt = QUANT_TABLE[type_name]
    raw_all = random_weight_bytes(type_name, max(r * c for r, c in args.shapes), np.random.default_rng())
    records = []
    for rows, row_len in args.shapes:
        raw = raw_all[: qt.tensor_bytes(rows * row_len)]  # (rows * row_bytes,) prefix of the random blocks
        records += bench_shape(type_name, raw, (rows, row_len), args, cupy, spin)
        cupy.get_default_memory_pool().free_all_blocks()
    return records


def markdown(records: list[dict], card: str, copy_gbps: float) -> str:
    lines = [f"# Mat-vec bandwidth on {card}", "",
             f"Device-to-device copy: {copy_gbps:.0f} GB/s (2 x bytes / time). Cells: GB/s (% of copy); "
             "mmvq timings exclude the q8_1 quantize kernel (quant_us in the JSON).", "",
             "| type | rows x cols | ncols | mmvq | dmmv | mmvq-soft | correct |", "|---|---|---|---|---|---|---|"]
    keyed = {(r["type"], r["rows"], r["cols"], r["ncols"], r["path"]): r for r in records}
    seen = []
    for r in records:
        key = (r["type"], r["rows"], r["cols"], r["ncols"])
        if key in seen:
            continue
        seen.append(key)
        cells, correct = [], True
        for path in ("mmvq", "dmmv", "mmvq-soft"):
            rec = keyed.get((*key, path))
            cells.append(f"{rec['gbps']:.0f} ({rec['pct_of_copy']:.0f}%)" if rec else "-")
            correct = correct and (rec is None or rec["correct"])
        lines.append(f"| {key[0]} | {key[1]}x{key[2]} | {key[3]} | " + " | ".join(cells) + f" | {'yes' if correct else 'NO'} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    import cupy

    from engine.kernels.api import KernelSet
    from engine.kernels.sources import MMVQ_LAYOUTS, family_available
    from engine.quant.table import QUANT_TABLE

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    parser.add_argument("--types", default="", help="comma-separated subset (default: every type with kernels)")
    parser.add_argument("--reps", type=int, default=20)
    parser.add_argument("--rows", type=int, default=0, help="rows per CTA for every kernel, capped by the tile budget (0: per-type default)")
    parser.add_argument("--shapes", default="", help="subset, e.g. 65536x4096 (default: all three)")
    parser.add_argument("--ncols", default="1,8")
    parser.add_argument("--paths", default="mmvq,dmmv,mmvq-soft", help="subset of mmvq,dmmv,mmvq-soft")
    parser.add_argument("--mmvq-layout", default="auto", choices=MMVQ_LAYOUTS,
                        help="1-column mmvq kernel: by shape (auto) or forced (engine/kernels/sources.py)")
    parser.add_argument("--chain", type=int, default=0,
                        help="time N back-to-back launches in one CUDA graph, per launch (0: one launch after a spin)")
    args = parser.parse_args(argv)
    args.paths = tuple(p for p in args.paths.split(",") if p)
    args.shapes = tuple(tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")) if args.shapes else SHAPES
    args.ncols = tuple(int(v) for v in args.ncols.split(","))
    types = [t for t in (args.types.split(",") if args.types else QUANT_TABLE) if family_available(QUANT_TABLE[t].family)]
    layout = dict(rows_per_block=args.rows, mmvq_layout=args.mmvq_layout)
    args.kernel_sets = {"native": KernelSet.for_device(0, **layout),
                        "mmvq-soft": KernelSet.for_device(0, soft_dp4a=True, **layout)}
    args.kernel_sets["native"].precompile(types)
    if "mmvq-soft" in args.paths:
        args.kernel_sets["mmvq-soft"].precompile([t for t in types if not QUANT_TABLE[t].is_float])
    spin = cupy.RawKernel(SPIN_SOURCE, "ql_spin")
    props = cupy.cuda.runtime.getDeviceProperties(0)
    card, args.l2_bytes = props["name"].decode(), int(props["l2CacheSize"])
    args.card, args.copy_gbps = card, copy_bandwidth(cupy)
    args.clocks = ClockProbe()
    copy_gbps = args.copy_gbps
    print(f"card {card}, copy {copy_gbps:.0f} GB/s", flush=True)
    records, failed = [], []
    for type_name in types:
        try:
            records += bench_type(type_name, args, cupy, spin)
        except Exception as exc:  # one type's failure must not lose the others' numbers
            print(f"{type_name}: FAILED {type(exc).__name__}: {exc}", flush=True)
            failed.append(type_name)
    args.clocks.close()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", card).strip("-")
    stem = (f"matvec-{slug}-{datetime.date.today().isoformat()}" + (f"-rows{args.rows}" if args.rows else "")
            + (f"-chain{args.chain}" if args.chain else "")
            + (f"-{args.mmvq_layout}" if args.mmvq_layout != "auto" else ""))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{stem}.json").write_text(json.dumps(records, indent=1) + "\n")
    (args.out / f"{stem}.md").write_text(markdown(records, card, copy_gbps))
    print(f"wrote {args.out / stem}.json/.md")
    return 0 if all(r["correct"] for r in records) and not failed else 1


if __name__ == "__main__":
    sys.exit(main())
