"""``quantlaunch-engine kernels``: prove the kernel tool-chain works on this machine.

Compiles two kernel modules (legacy mmvq and IQ dmmv, one column) through NVRTC for the
given arch — this needs no GPU and no driver — and, where a CUDA device is usable, runs a
Q4_0 mat-vec on it and compares it with the NumPy reference. The bundle's smoke test and
the launcher's self-test use it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser("kernels", help="compile (and, with a GPU, run) a kernel as a self-check")
    parser.add_argument("--arch", type=int, default=0, help="compute capability as 61, 90, … (default: the GPU's, else 61)")
    parser.set_defaults(run=run)


def _gpu_arch() -> int | None:
    try:
        import cupy

        major, minor = cupy.cuda.Device(0).compute_capability[0], cupy.cuda.Device(0).compute_capability[1]
        return 10 * int(major) + int(minor)
    except Exception:  # no cupy, no driver, no device
        return None


def _compile(arch: int, cache_dir: Path) -> list[str]:
    from engine.kernels.build import CompileTarget, cached_cubin, nvrtc_version
    from engine.kernels.sources import ModuleSpec

    print(f"NVRTC {'.'.join(map(str, nvrtc_version()))}: compiling for sm_{arch}")
    built = []
    for spec in (ModuleSpec("legacy", "mmvq", columns=(1,)), ModuleSpec("iq", "dmmv", columns=(1,))):
        path, _ = cached_cubin(spec, CompileTarget(arch), cache_dir)
        built.append(f"{spec.family}-{spec.kind}: {path.stat().st_size} bytes")
    return built


def _run_on_gpu(cache_dir: Path) -> float:
    """Max relative error of a 256x512 Q4_0 mat-vec (dmmv) against float64 NumPy."""
    import cupy

    from engine.kernels.api import KernelSet, upload_weight
    from engine.quant.blocks import random_blocks
    from engine.quant.dequant import dequantize

    rng = np.random.default_rng()
    rows, row_len = 256, 512
    raw = random_blocks("Q4_0", rows * row_len // 32, rng)  # (blocks, 18) bytes
    x = rng.standard_normal((1, row_len)).astype(np.float32)  # (ncols, row_len)
    kernels = KernelSet.for_device(0, cache_dir=cache_dir)
    y = cupy.asnumpy(kernels.matvec(upload_weight("Q4_0", raw, (rows, row_len)), cupy.asarray(x), path="dmmv"))
    ref = x.astype(np.float64) @ dequantize("Q4_0", raw, (rows, row_len)).astype(np.float64).T  # (1, rows)
    return float(np.max(np.abs(y - ref)) / max(np.max(np.abs(ref)), 1e-30))


def run(args) -> int:
    gpu_arch = _gpu_arch()
    arch = args.arch or gpu_arch or 61
    with tempfile.TemporaryDirectory(prefix="ql-kernels-") as tmp:
        for line in _compile(arch, Path(tmp)):
            print(f"  compiled {line}")
        if gpu_arch is None:
            print("GPU: none usable here; compiled only (the CPU backend still works)")
            return 0
        error = _run_on_gpu(Path(tmp))
        print(f"GPU sm_{gpu_arch}: Q4_0 dmmv mat-vec max relative error {error:.2e}")
        return 0 if error < 1e-3 else 1
