"""The kernel API the runtime codes against: KernelSet, QuantWeight, upload_weight.

    ks = KernelSet.for_device(0)                      # per device; soft_dp4a=True for legacy mmvq
    w = upload_weight("Q4_K", raw_bytes, (rows, row_len), name="blk.0.ffn_down.weight")
    y = ks.matvec(w, x, path="mmvq")                  # x (ncols<=8, row_len) f32 -> (ncols, rows) f32
    w16 = ks.dequantize_f16(w)                        # (rows, row_len) f16, for cuBLAS GEMM

Modules are compiled per (family, kind) on first use, cached on disk by engine.kernels.build,
and held by the KernelSet (no module-level state).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from engine.kernels.build import CompileTarget, cached_cubin, precompile
from engine.kernels.launch import Launcher
from engine.kernels.sources import (
    FAMILIES_WITH_TABLES,
    MAX_COLUMNS,
    MMVQ_LONG_ROWS,
    ModuleSpec,
    checked_mmvq_layout,
    dmmv_kernel_name,
    kernel_name,
    mmvq_has_warp_kernel,
    mmvq_uses_long_rows,
    mmvq_uses_warps,
    rows_per_block,
)
from engine.kernels.sources import QL_THREADS as THREADS
from engine.kernels.weights import QuantWeight, kernel_type, upload_weight

__all__ = ["KernelSet", "QuantWeight", "upload_weight", "MATVEC_PATHS"]
MATVEC_PATHS = ("mmvq", "dmmv")


class KernelSet:
    """The compiled kernels of one device (and one dp4a mode), loaded lazily per type family."""

    def __init__(self, device_id: int, arch: int, soft_dp4a: bool = False, cache_dir: Path | None = None,
                 rows_per_block: int = 0, mmvq_layout: str = "auto"):
        self.device_id = device_id
        self.rows_override = rows_per_block  # 0 = the per-type default (bench tuning knob)
        # "auto": by shape (sources.mmvq_uses_warps); "ctas" / "warps": forced (tests, bench)
        self.mmvq_layout = checked_mmvq_layout(mmvq_layout)
        self.target = CompileTarget(arch, soft_dp4a)
        self.cache_dir = cache_dir
        self._modules: dict[ModuleSpec, Any] = {}  # this object's own cache of loaded modules
        self._resident: dict[str, int] = {}  # kernel name -> CTAs of it resident on the whole device
        # (type, ncols, rows, nchunks) -> the mmvq kernel, grid and name for that shape (_mmvq_kernel)
        self._mmvq_choice: dict[tuple[str, int, int, int], tuple[Any, tuple[int], str]] = {}
        self.launch = Launcher(arch)  # programmatic dependent launch on sm_90+ (engine.kernels.launch)

    @classmethod
    def for_device(cls, device_id: int = 0, soft_dp4a: bool = False, cache_dir: Path | None = None,
                   rows_per_block: int = 0, mmvq_layout: str = "auto") -> KernelSet:
        major, minor = _cc(device_id)
        return cls(device_id, 10 * major + minor, soft_dp4a, cache_dir, rows_per_block, mmvq_layout)

    @property
    def soft_dp4a(self) -> bool:
        return self.target.soft_dp4a or self.target.arch < 61

    # ---- modules ---------------------------------------------------------------------
    def _spec(self, family: str, kind: str) -> ModuleSpec:
        return ModuleSpec(family, kind, soft_dp4a=self.target.soft_dp4a and kind == "mmvq", rows=self.rows_override)

    def _module(self, spec: ModuleSpec) -> Any:
        module = self._modules.get(spec)
        if module is None:
            import cupy

            path, _ = cached_cubin(spec, self.target, self.cache_dir)
            with cupy.cuda.Device(self.device_id):
                module = cupy.RawModule(path=str(path))
                if spec.family in FAMILIES_WITH_TABLES:
                    from engine.kernels.tables import upload_tables

                    upload_tables(module)
            self._modules[spec] = module
        return module

    def _function(self, family: str, kind: str, name: str) -> Any:
        return self._module(self._spec(family, kind)).get_function(name)

    def precompile(self, type_names: list[str] | tuple[str, ...], workers: int | None = None) -> list[ModuleSpec]:
        """Fill the disk cache (in parallel processes) for every module these types need."""
        families = {kernel_type(name).family for name in type_names}
        specs = [self._spec(f, kind) for f in sorted(families) for kind in ("mmvq", "dmmv")
                 if not (f == "float" and kind == "mmvq")]
        precompile(specs, self.target, self.cache_dir, workers)
        return specs

    def warm_up(self, type_names: list[str] | tuple[str, ...], workers: int | None = None) -> None:
        """Compile (in parallel) and load every module these types need, before first use."""
        for spec in self.precompile(type_names, workers):
            self._module(spec)

    # ---- kernels ---------------------------------------------------------------------
    def quantize_q8_1(self, x: Any, type_name: str) -> tuple[Any, Any]:
        """x f32 (ncols, n) C-contiguous, n % 32 == 0 -> (xq int8 (ncols, n/32, 32), xds f32 (ncols, n/32, 2)),
        (d, s) per block with s = d * sum(q). ``type_name``: a quantized type whose module to use."""
        import cupy

        family = kernel_type(type_name).family
        ncols, n = x.shape
        chunks = ncols * (n // 32)
        xq = cupy.empty((ncols, n // 32, 32), dtype=cupy.int8)  # (ncols, nchunks, 32)
        xds = cupy.empty((ncols, n // 32, 2), dtype=cupy.float32)  # (ncols, nchunks, (d, s))
        blocks = -(-chunks * 32 // 256)
        with cupy.cuda.Device(self.device_id):
            kernel = self._function(family, "mmvq", "ql_quantize_q8_1")
            self.launch(kernel, (blocks,), (256,), (x, np.int32(chunks), xq, xds))
        return xq, xds

    def matvec(self, w: QuantWeight, x: Any, path: str = "mmvq", out: Any | None = None,
               accumulate: bool = False) -> Any:
        """y[c, r] = sum_k W[r, k] * x[c, k]: x f32 (ncols, row_len), 1 <= ncols <= 8 -> (ncols, rows) f32.
        With ``accumulate`` the sums are added to ``out`` (given) instead of replacing it."""
        import cupy

        qt = kernel_type(w.type_name, w.name)
        x = _checked_activations(w, x, self.device_id)
        out = _checked_out(w, x.shape[0], out, accumulate)
        path = self._checked_path(path)
        if w.padded_len != w.row_len:  # float rows padded to 32 elements: pad x with zeros
            x = cupy.pad(x, ((0, 0), (0, w.padded_len - w.row_len)))  # (ncols, padded_len)
        if path == "mmvq" and not qt.is_float:
            xq, xds = self.quantize_q8_1(x, qt.name)
            return self.matvec_quantized(w, xq, xds, out, accumulate)
        ncols, nchunks = x.shape[0], w.padded_len // 32
        name = dmmv_kernel_name(qt, ncols, nchunks)
        kernel = self._function(qt.family, "dmmv", name)
        grid = self._grid(kernel, name, -(-w.rows // rows_per_block(ncols, qt, self.rows_override)))
        with cupy.cuda.Device(self.device_id):
            self.launch(kernel, grid, (THREADS,), (w.data, np.int64(w.row_stride), np.int32(w.rows), np.int32(nchunks), x, out,
                                      np.int32(accumulate)))
        return out

    def matvec_quantized(self, w: QuantWeight, xq: Any, xds: Any, out: Any, accumulate: bool = False) -> Any:
        """mmvq on activations already in q8_1 (from quantize_q8_1; one quantization can feed
        several weights of the same row length): out f32 (ncols, rows), added to when ``accumulate``."""
        import cupy

        qt = kernel_type(w.type_name, w.name)
        ncols, nchunks = xq.shape[0], xq.shape[1]
        if qt.is_float or nchunks * 32 != w.row_len or xds.shape != (ncols, nchunks, 2):
            raise ValueError(f"tensor {w.name or '?'} ({w.type_name}): q8_1 activations do not fit this weight")
        out = _checked_out(w, ncols, out, accumulate)
        kernel, grid, _ = self._mmvq_kernel(qt, ncols, w.rows, nchunks)
        with cupy.cuda.Device(self.device_id):
            self.launch(kernel, grid, (THREADS,), (w.data, np.int64(w.row_stride), np.int32(w.rows), np.int32(nchunks), xq, xds, out,
                                      np.int32(accumulate)))
        return out

    def dequantize_f16(self, w: QuantWeight) -> Any:
        """The whole tensor as f16 (rows, row_len), e.g. for a cuBLAS GEMM on a large batch."""
        import cupy

        qt = kernel_type(w.type_name, w.name)
        with cupy.cuda.Device(self.device_id):
            if qt.is_float:
                return _float_rows_as_f16(w)
            out = cupy.empty((w.rows, w.row_len), dtype=cupy.float16)  # (rows, row_len)
            total = w.rows * w.row_len // 8  # one thread per 8 outputs
            kernel = self._function(qt.family, "dmmv", kernel_name("f16", qt.name))
            self.launch(kernel, (-(-total // 256),), (256,), (w.data, np.int64(w.row_stride), np.int32(w.rows),
                                                  np.int32(w.row_len), out))
            return out

    def get_rows(self, w: QuantWeight, ids: Any, out: Any | None = None) -> Any:
        """Rows ``ids`` (int32 cupy (n,)) of the tensor, dequantized: (n, row_len) f32 (embedding
        lookup). Needs row_len % 8 == 0; ids must be in range (others read row 0)."""
        import cupy

        qt = kernel_type(w.type_name, w.name)
        if w.row_len % 8 or not isinstance(ids, cupy.ndarray) or ids.dtype != cupy.int32 or ids.ndim != 1:
            raise ValueError(f"tensor {w.name or '?'}: get_rows needs int32 ids (n,) and rows of a multiple of 8")
        n = ids.shape[0]
        if out is None:
            out = cupy.empty((n, w.row_len), dtype=cupy.float32)  # (n, row_len)
        elif out.shape != (n, w.row_len) or out.dtype != cupy.float32 or not out.flags.c_contiguous:
            raise ValueError(f"tensor {w.name or '?'}: out must be a C-contiguous float32 array ({n}, {w.row_len})")
        total = n * w.row_len // 8  # one thread per 8 outputs
        with cupy.cuda.Device(self.device_id):
            kernel = self._function(qt.family, "dmmv", kernel_name("rows", qt.name))
            self.launch(kernel, (max(1, -(-total // 256)),), (256,), (w.data, np.int64(w.row_stride), np.int32(w.rows),
                                                         np.int32(w.row_len), ids, np.int32(n), out))
        return out

    def mmvq_kernel_name(self, w: QuantWeight, ncols: int) -> str:
        """The mmvq kernel an ``ncols``-column product with ``w`` runs on (bench records, diagnostics)."""
        return self._mmvq_kernel_of(w, ncols)[2]

    def mmvq_grid(self, w: QuantWeight, ncols: int) -> int:
        """CTAs that kernel is launched with (persistent: at most those resident at once)."""
        return self._mmvq_kernel_of(w, ncols)[1][0]

    def _mmvq_kernel_of(self, w: QuantWeight, ncols: int) -> tuple[Any, tuple[int], str]:
        return self._mmvq_kernel(kernel_type(w.type_name, w.name), ncols, w.rows, w.row_len // 32)

    def _mmvq_kernel(self, qt: Any, ncols: int, rows: int, nchunks: int) -> tuple[Any, tuple[int], str]:
        """The mmvq kernel for ``rows`` output rows of ``nchunks`` chunks, its grid and name
        (chosen once per shape)."""
        key = (qt.name, ncols, rows, nchunks)
        choice = self._mmvq_choice.get(key)
        if choice is None:
            choice = self._mmvq_choice[key] = self._choose_mmvq_kernel(qt, ncols, rows, nchunks)
        return choice

    def _choose_mmvq_kernel(self, qt: Any, ncols: int, rows: int, nchunks: int) -> tuple[Any, tuple[int], str]:
        """The independent-warp kernel (a CTA holds THREADS // 32 warps' row groups) where
        sources.mmvq_uses_warps says so, the CTA kernel of MMVQ_LONG_ROWS[type] rows where
        sources.mmvq_uses_long_rows does, else the CTA kernel."""
        row_groups = -(-rows // rows_per_block(ncols, qt, self.rows_override))
        if mmvq_has_warp_kernel(qt, ncols) and self.mmvq_layout != "ctas":
            name = kernel_name("mmvqw", qt.name, 1)
            kernel = self._function(qt.family, "mmvq", name)
            resident_warps = self._resident_ctas(kernel, name) * (THREADS // 32)
            if mmvq_uses_warps(qt, ncols, row_groups, resident_warps, self.mmvq_layout):
                return kernel, self._grid(kernel, name, -(-row_groups // (THREADS // 32))), name
        if mmvq_uses_long_rows(qt, ncols, rows, nchunks, self._sm_count(), self.rows_override):
            name = kernel_name("mmvql", qt.name, 1)
            kernel = self._function(qt.family, "mmvq", name)
            return kernel, self._grid(kernel, name, -(-rows // MMVQ_LONG_ROWS[qt.name])), name
        name = kernel_name("mmvq", qt.name, ncols)
        kernel = self._function(qt.family, "mmvq", name)
        return kernel, self._grid(kernel, name, row_groups), name

    def _grid(self, kernel: Any, name: str, row_groups: int) -> tuple[int]:
        """Persistent mat-vec grid: at most as many CTAs as fit on the device at once."""
        return (max(1, min(row_groups, self._resident_ctas(kernel, name))),)

    def _sm_count(self) -> int:
        import cupy

        return int(cupy.cuda.runtime.getDeviceProperties(self.device_id)["multiProcessorCount"])

    def _resident_ctas(self, kernel: Any, name: str) -> int:
        """CTAs of ``kernel`` that fit on the whole device at once (threads, registers, shared memory)."""
        resident = self._resident.get(name)
        if resident is None:
            import cupy

            props = cupy.cuda.runtime.getDeviceProperties(self.device_id)
            regs = max(1, -(-kernel.num_regs // 8) * 8 * THREADS)  # registers per CTA (allocation granularity 8)
            per_sm = min(props["maxThreadsPerMultiProcessor"] // THREADS, props["regsPerMultiprocessor"] // regs,
                         props["sharedMemPerMultiprocessor"] // (kernel.shared_size_bytes + 1024))
            resident = self._resident[name] = max(1, per_sm) * props["multiProcessorCount"]
        return resident

    def _checked_path(self, path: str) -> str:
        if path == "mmvq-soft":
            if not self.soft_dp4a:
                raise ValueError("path 'mmvq-soft' needs KernelSet.for_device(..., soft_dp4a=True)")
            return "mmvq"
        if path not in MATVEC_PATHS:
            raise ValueError(f"unknown mat-vec path {path!r}; expected one of {', '.join(MATVEC_PATHS)}")
        return path


def _cc(device_id: int) -> tuple[int, int]:
    import cupy

    props = cupy.cuda.runtime.getDeviceProperties(device_id)
    return int(props["major"]), int(props["minor"])


def _checked_activations(w: QuantWeight, x: Any, device_id: int) -> Any:
    import cupy

    label = f"tensor {w.name or '?'} ({w.type_name}, {w.rows}x{w.row_len})"
    if not isinstance(x, cupy.ndarray) or x.dtype != cupy.float32 or x.ndim != 2:
        raise ValueError(f"{label}: activations must be a 2-D float32 cupy array (ncols, row_len)")
    if x.shape[1] != w.row_len:
        raise ValueError(f"{label}: activations have {x.shape[1]} values per column, the rows {w.row_len}")
    if not 1 <= x.shape[0] <= MAX_COLUMNS:
        raise ValueError(f"{label}: {x.shape[0]} activation columns; the mat-vec takes 1..{MAX_COLUMNS}")
    if x.device.id != device_id or w.data.device.id != device_id:
        raise ValueError(f"{label}: weights and activations must live on device {device_id}")
    return cupy.ascontiguousarray(x)


def _checked_out(w: QuantWeight, ncols: int, out: Any | None, accumulate: bool = False) -> Any:
    import cupy

    if out is None and accumulate:
        raise ValueError(f"tensor {w.name or '?'}: accumulate=True needs the out array to add to")
    if out is None:
        return cupy.empty((ncols, w.rows), dtype=cupy.float32)  # (ncols, rows)
    if (not isinstance(out, cupy.ndarray) or out.dtype != cupy.float32 or out.shape != (ncols, w.rows)
            or not out.flags.c_contiguous):
        raise ValueError(f"tensor {w.name or '?'}: out must be a C-contiguous float32 cupy array ({ncols}, {w.rows})")
    return out


def _float_rows_as_f16(w: QuantWeight) -> Any:
    import cupy

    esize = 4 if w.type_name == "F32" else 2
    rows = w.data[:, : w.row_len * esize]  # (rows, row_len*esize) bytes, padding dropped
    if w.type_name == "F32":
        return cupy.ascontiguousarray(rows).view(cupy.float32).astype(cupy.float16)
    if w.type_name == "F16":
        return cupy.ascontiguousarray(rows).view(cupy.float16)
    bits = cupy.ascontiguousarray(rows).view(cupy.uint16).astype(cupy.uint32) << 16  # bf16 -> f32 bits
    return bits.view(cupy.float32).astype(cupy.float16)
