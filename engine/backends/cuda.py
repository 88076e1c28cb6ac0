"""The CUDA backend (CuPy): weights stay quantized on the GPU, mat-vecs through
engine.kernels (path per device from the BackendSpec), small layer ops from cuda_ops.cu.

Up to 8 tokens a step use the mat-vec kernels; more dequantize to fp16 and use cuBLAS.
Decode steps (one token) are captured into a CUDA graph after a warm-up step; the
position lives in a device buffer, so the graph is reused for every token.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from typing import Any

import cupy
import numpy as np

from engine.backends.ops import RawTensor
from engine.backends.spec import DeviceAssignment
from engine.diagnostics import DiagnosticError, Remedy, error
from engine.kernels.api import KernelSet, upload_weight
from engine.model.config import LlamaConfig, RopeParams
from engine.model.forward import Segment
from engine.quant.dequant import dequantize

MATVEC_MAX_COLS = 8
MAX_HEAD_DIM = 256  # ql_attention keeps one head in shared memory
THREADS = 256


@dataclass(frozen=True)
class Positions:
    buffer: Any  # cupy int32 (1,): position of token 0 of the step
    start: int  # host copy, for shapes only (never read by a captured graph)
    count: int


@dataclass(frozen=True)
class CudaCache:
    k: Any  # cupy (n_layers, n_ctx, n_head_kv, head_dim) float32
    v: Any  # cupy (n_layers, n_ctx, n_head_kv, head_dim) float32


def _load_layer_module() -> cupy.RawModule:
    source = resources.files("engine.backends").joinpath("cuda_ops.cu").read_text()
    return cupy.RawModule(code=source, options=("-std=c++17",))


def _blocks(n: int) -> tuple[int]:
    return ((n + THREADS - 1) // THREADS,)


class CudaOps:
    """Implements engine.backends.ops.Ops on one device with one kernel path."""

    name = "cuda"

    def __init__(self, device_id: int, path: str):
        self.device_id = device_id
        self.path = path
        self.device = cupy.cuda.Device(device_id)
        self.matvec_path = "dmmv" if path == "dmmv" else "mmvq"
        self._warm_types: set[str] = set()
        with self.device:
            self.kernels = KernelSet.for_device(device_id, soft_dp4a=(path == "mmvq-soft"))
            self.stream = cupy.cuda.Stream(non_blocking=True)
            module = _load_layer_module()
            self.k_norm, self.k_rope = module.get_function("ql_rms_norm"), module.get_function("ql_rope")
            self.k_store, self.k_attn = module.get_function("ql_kv_store"), module.get_function("ql_attention")
            self.k_swiglu = module.get_function("ql_swiglu")
            self.pos_buffer = cupy.zeros((1,), cupy.int32)

    # -- data in and out ---------------------------------------------------------------
    def upload(self, host: np.ndarray) -> Any:
        with self.device, self.stream:
            return cupy.asarray(np.ascontiguousarray(host, dtype=np.float32))

    def download(self, x: Any) -> np.ndarray:
        with self.device:
            return x.get(stream=self.stream)

    def load_vector(self, tensor: RawTensor) -> Any:
        host = dequantize(tensor.type_name, tensor.data, tensor.shape).reshape(-1)  # (n,)
        return self.upload(host)

    def load_linear(self, tensors: tuple[RawTensor, ...]) -> Any:
        raw = np.concatenate([np.asarray(t.data) for t in tensors])  # rows of all tensors, in order
        rows, row_len = sum(t.shape[0] for t in tensors), tensors[0].shape[1]
        type_name = tensors[0].type_name
        with self.device, self.stream:
            if type_name not in self._warm_types:
                self.kernels.warm_up((type_name,))  # compile before first use (never inside a capture)
                self._warm_types.add(type_name)
            return upload_weight(type_name, raw, (rows, row_len), name=tensors[0].name)

    def new_cache(self, cfg: LlamaConfig, n_layers: int, n_ctx: int) -> CudaCache:
        shape = (n_layers, n_ctx, cfg.n_head_kv, cfg.head_dim)
        with self.device:
            return CudaCache(cupy.zeros(shape, cupy.float32), cupy.zeros(shape, cupy.float32))

    def positions(self, start_pos: int, n_tokens: int) -> Positions:
        with self.device, self.stream:
            self.pos_buffer.set(np.array([start_pos], np.int32), stream=self.stream)
        return Positions(self.pos_buffer, start_pos, n_tokens)

    # -- ops (called inside `with device, stream`) -----------------------------------
    def rms_norm(self, x: Any, weight: Any, eps: float) -> Any:
        x = cupy.ascontiguousarray(x)
        out = cupy.empty_like(x)  # (T, n)
        self.k_norm((x.shape[0],), (THREADS,), (x, weight, out, np.int32(x.shape[1]), np.float32(eps)))
        return out

    def linear(self, x: Any, weight: Any) -> Any:
        x = cupy.ascontiguousarray(x)  # (T, row_len)
        if x.shape[0] <= MATVEC_MAX_COLS:
            return self.kernels.matvec(weight, x, path=self.matvec_path)  # (T, rows)
        w16 = self.kernels.dequantize_f16(weight)  # (rows, row_len) f16
        return cupy.matmul(x.astype(cupy.float16), w16.T).astype(cupy.float32)  # (T, rows)

    def rope(self, x: Any, n_heads: int, head_dim: int, pos: Positions, rope: RopeParams) -> Any:
        n = x.shape[0] * n_heads * (rope.dim // 2)
        args = (x, np.int32(x.strides[0] // 4), pos.buffer, np.int32(x.shape[0]), np.int32(n_heads),
                np.int32(head_dim), np.int32(rope.dim), np.int32(rope.neox), np.float32(math.log2(rope.base)),
                np.float32(1.0 / rope.scale))
        self.k_rope(_blocks(n), (THREADS,), args)  # in place on the (possibly strided) slice
        return x

    def attend(self, q: Any, k: Any, v: Any, cache: CudaCache, layer: int, pos: Positions) -> Any:
        n_tokens, kv_width = k.shape
        _, n_ctx, _, head_dim = cache.k.shape
        if k.strides != v.strides:
            k, v = cupy.ascontiguousarray(k), cupy.ascontiguousarray(v)
        self.k_store(_blocks(n_tokens * kv_width), (THREADS,),
                     (k, v, np.int32(k.strides[0] // 4), cache.k[layer], cache.v[layer], pos.buffer,
                      np.int32(n_tokens), np.int32(kv_width)))
        n_head = q.shape[1] // head_dim
        score_stride = n_ctx if n_tokens == 1 else pos.start + n_tokens  # fixed for a captured step
        scores = cupy.empty((n_tokens, n_head, score_stride), cupy.float32)
        out = cupy.empty((n_tokens, n_head * head_dim), cupy.float32)
        self.k_attn((n_head, n_tokens), (THREADS,),
                    (q, np.int32(q.strides[0] // 4), cache.k[layer], cache.v[layer], out, scores,
                     np.int32(score_stride), pos.buffer, np.int32(n_head // (kv_width // head_dim)),
                     np.int32(head_dim), np.int32(kv_width), np.float32(1.0 / math.sqrt(head_dim))))
        return out

    def swiglu(self, gate_up: Any, n_ff: int) -> Any:
        if isinstance(gate_up, tuple):
            gate_up = cupy.concatenate(gate_up, axis=1)  # (T, 2 * n_ff): [gate | up]
        gate_up = cupy.ascontiguousarray(gate_up)
        out = cupy.empty((gate_up.shape[0], n_ff), cupy.float32)
        self.k_swiglu(_blocks(out.size), (THREADS,), (gate_up, out, np.int32(out.shape[0]), np.int32(n_ff)))
        return out

    def add_(self, x: Any, y: Any) -> Any:
        x += y
        return x

    def wait_for(self, src: Any) -> None:
        """Order this stream after ``src``'s work (two logical segments on one device)."""
        other = getattr(src, "stream", None)
        if other is not None and other is not self.stream:
            with self.device:
                self.stream.wait_event(other.record())


def cuda_ops_for(assignment: DeviceAssignment) -> CudaOps:
    return CudaOps(assignment.device_id, assignment.path)


class CudaSegment(Segment):
    """A Segment on one device: runs inside the device and stream; one-token steps replay
    a CUDA graph captured on the second such step (the first warms the memory pool)."""

    def __init__(self, ops: CudaOps, cfg: LlamaConfig, layers: tuple[int, int], n_ctx: int):
        if cfg.head_dim > MAX_HEAD_DIM:
            raise DiagnosticError(error(
                "QL-E-CUDA-HEAD-DIM", "This model's attention heads are too wide for the GPU backend",
                f"Heads of {cfg.head_dim} values are not supported on the GPU yet (at most {MAX_HEAD_DIM}).",
                Remedy("use_cpu", "Run on the CPU"), head_dim=cfg.head_dim))
        super().__init__(ops, cfg, layers, n_ctx)
        self._graphs: dict[bool, tuple[Any, Any, Any]] = {}  # with_tail -> (graph, input, output)
        self._decode_steps = 0
        self.use_graphs = True

    def run(self, x: Any, start_pos: int, *, with_tail: bool = False, last_only: bool = False) -> Any:
        ops: CudaOps = self.ops
        with ops.device, ops.stream:
            if x.shape[0] != 1 or not self.use_graphs:
                return super().run(x, start_pos, with_tail=with_tail, last_only=last_only)
            ops.positions(start_pos, 1)
            entry = self._graphs.get(with_tail)
            if entry is None:
                self._decode_steps += 1
                if self._decode_steps < 2:
                    return super().run(x, start_pos, with_tail=with_tail, last_only=last_only)
                entry = self._capture(x, start_pos, with_tail)
                if entry is None:
                    return super().run(x, start_pos, with_tail=with_tail, last_only=last_only)
            graph, static_in, static_out = entry
            static_in[...] = x  # (1, n_embd)
            graph.launch(stream=ops.stream)
            return static_out

    def _step(self, x: Any, with_tail: bool) -> Any:
        pos = Positions(self.ops.pos_buffer, 0, 1)
        y = self.run_blocks(x, pos)
        return self.tail(y) if with_tail and self.tail is not None else y

    def _capture(self, x: Any, start_pos: int, with_tail: bool) -> tuple[Any, Any, Any] | None:
        ops: CudaOps = self.ops
        static_in = x.copy()  # (1, n_embd)
        ops.stream.begin_capture()
        try:
            static_out = self._step(static_in, with_tail)
        except Exception:
            ops.stream.end_capture()
            self.use_graphs = False  # a kernel needed a host sync: stay eager
            return None
        graph = ops.stream.end_capture()
        self._graphs[with_tail] = (graph, static_in, static_out)
        return self._graphs[with_tail]

    def close(self) -> None:
        self._graphs.clear()
        super().close()
        with self.ops.device:
            self.ops.stream.synchronize()
            cupy.get_default_memory_pool().free_all_blocks()
