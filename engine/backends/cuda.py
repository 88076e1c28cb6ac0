"""The CUDA backend (CuPy): weights stay quantized on the GPU, mat-vecs through
engine.kernels (path per device from the BackendSpec), small layer ops from cuda_ops.cu, the
attention (cuda_attend.py, a mixin) from cuda_attention.cu and cuda_attention_cluster.cu.

Up to 8 tokens a step use the mat-vec kernels; more dequantize to fp16 and use cuBLAS.
Decode steps (one token) are captured into a CUDA graph after a warm-up step; the
position lives in a device buffer, so the graph is reused for every token.

Fewer launches per layer (decode speed): the residual adds happen inside the output and
down mat-vecs (``linear_add_``), rope + KV store is one kernel (inside the split-KV attention
for one-token steps), and on the mmvq paths the norm, attention and SwiGLU kernels also write
their output in q8_1 (an :class:`Activation`), which ``linear`` feeds straight to
``KernelSet.matvec_quantized`` (no separate quantize launch). Each fused form is checked
against the plain kernels once per device (engine/backends/cuda_checks.py) and used only if
they agree.

Little host work per decoded token: token id and position go up in one pinned 8-byte copy
(``set_step``), the logits (or, for greedy decoding, the argmax token) come back through a
pinned buffer. The segment that captures and
replays decode graphs (with the embedding lookup inside) is engine/backends/cuda_segment.py.
"""

from __future__ import annotations

import math
from importlib import resources
from typing import Any

import cupy
import cupyx
import numpy as np

from engine.backends.cuda_attend import THREADS, AttentionOps, launch_blocks
from engine.backends.cuda_checks import (
    cluster_merge_note,
    fused_q8_note,
    rope_in_attention_note,
    split_attention_note,
)
from engine.backends.cuda_q8 import AGREES
from engine.backends.cuda_types import Activation, CudaCache, Positions
from engine.backends.ops import RawTensor
from engine.backends.spec import DeviceAssignment
from engine.kernels.api import KernelSet, upload_weight
from engine.model.config import LlamaConfig, RopeParams
from engine.quant.dequant import dequantize
from engine.quant.table import by_name

MATVEC_MAX_COLS = 8
MAX_HEAD_DIM = 256  # ql_attention keeps one head in shared memory
ARGMAX_THREADS = 1024  # ql_argmax: one CTA over the logits
TOKEN_RING = 64  # chained greedy steps: tokens kept in page-locked host memory (> steps in flight)


LAYER_SOURCES = ("cuda_ops.cu", "cuda_attention.cu", "cuda_attention_cluster.cu")  # one NVRTC module, in this order


def layer_module_source() -> str:
    """The per-layer ops' CUDA source: the files of LAYER_SOURCES, concatenated."""
    files = resources.files("engine.backends")
    return "\n".join(files.joinpath(name).read_text() for name in LAYER_SOURCES)


def _load_layer_module() -> cupy.RawModule:
    return cupy.RawModule(code=layer_module_source(), options=("-std=c++17",))


class CudaOps(AttentionOps):
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
            self.launch = self.kernels.launch  # the kernels' launcher (PDL on sm_90+) for the layer ops too
            self.stream = cupy.cuda.Stream(non_blocking=True)
            module = _load_layer_module()
            self.k_norm, self.k_rope = module.get_function("ql_rms_norm"), module.get_function("ql_rope")
            self.k_store, self.k_attn = module.get_function("ql_kv_store"), module.get_function("ql_attention")
            self.k_swiglu, self.k_rope_kv = module.get_function("ql_swiglu"), module.get_function("ql_rope_kv_store")
            self.k_attn_split = module.get_function("ql_attention_split")
            self.k_attn_split_rope = module.get_function("ql_attention_split_rope")
            self.k_attn_merge = module.get_function("ql_attention_merge")
            cc = int(cupy.cuda.Device(device_id).compute_capability)
            self.k_attn_merged = module.get_function("ql_attention_split_rope_merged") if cc >= 90 else None
            self.k_argmax, self.k_argmax_chain = module.get_function("ql_argmax"), module.get_function("ql_argmax_chain")
            self.n_sm = int(cupy.cuda.runtime.getDeviceProperties(device_id)["multiProcessorCount"])
            self.step_buffer = cupy.zeros((2,), cupy.int32)  # [token id, position] of a one-token step
            self.token_buffer, self.pos_buffer = self.step_buffer[:1], self.step_buffer[1:]  # (1,) views
            self._step_host = cupyx.empty_pinned((2,), np.int32)  # staging for set_step's one copy
            self._pinned: dict[tuple[int, ...], np.ndarray] = {}  # (1, n) logits staging, per shape
            self._token_host = cupyx.empty_pinned((1,), np.int32)  # staging for download_token
            self._token_ring = cupyx.empty_pinned((TOKEN_RING,), np.int32)  # argmax_chain's tokens, by position
            self._token_ring_device = np.int64(_mapped_pointer(self._token_ring))  # the kernel's address of it
            self._no_q8 = (cupy.zeros((32,), cupy.int8), cupy.zeros((2,), cupy.float32))  # never read: want_q 0
        self.fused_q8: bool | None = None  # None until checked on the first quantized weight
        self.fused_q8_note = "not checked yet"
        self.split_kv, self.rope_in_attention = False, False  # each until its check agrees (cuda_checks.py)
        self.split_kv_note = split_attention_note(self)
        self.split_kv = self.split_kv_note == AGREES
        self.rope_in_attention_note = rope_in_attention_note(self) if self.split_kv else "needs the split-KV attention"
        self.rope_in_attention = self.rope_in_attention_note == AGREES
        self.cluster_merge = False  # until its check agrees (cuda_checks.py)
        self.cluster_merge_note = (cluster_merge_note(self) if self.rope_in_attention and self.k_attn_merged
                                   else "needs sm_90 and the rope in attention")
        self.cluster_merge = self.cluster_merge_note == AGREES

    # -- data in and out ---------------------------------------------------------------
    def upload(self, host: np.ndarray) -> Any:
        with self.device, self.stream:
            return cupy.asarray(np.ascontiguousarray(host, dtype=np.float32))

    def download(self, x: Any) -> np.ndarray:
        """One row (a decode step's logits) through a pinned buffer; anything else directly."""
        with self.device:
            if x.ndim != 2 or x.shape[0] != 1 or x.dtype != cupy.float32 or not x.flags.c_contiguous:
                return x.get(stream=self.stream)
            host = self._pinned.get(x.shape)
            if host is None:
                host = self._pinned[x.shape] = cupyx.empty_pinned(x.shape, np.float32)  # (1, n)
            x.get(stream=self.stream, out=host)
            self.stream.synchronize()
            return host.copy()

    def download_token(self, token: Any) -> int:
        """The int32 (1,) device result of ``argmax`` as a host int (4 bytes through a pinned buffer)."""
        with self.device:
            token.get(stream=self.stream, out=self._token_host)
            self.stream.synchronize()
            return int(self._token_host[0])

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
            if self.fused_q8 is None and self.matvec_path != "dmmv" and not by_name(type_name).is_float:
                self._check_fused_q8(type_name)
            return upload_weight(type_name, raw, (rows, row_len), name=tensors[0].name)

    def load_embedding(self, tensor: RawTensor) -> Any | None:
        """The token embedding, quantized, on this device for ``embed`` (None where the row
        lookup kernel cannot take it: rows that are not a multiple of 8 values)."""
        if len(tensor.shape) != 2 or tensor.shape[1] % 8:
            return None
        return self.load_linear((tensor,))

    def embed(self, table: Any, ids: np.ndarray) -> Any:
        """Rows ``ids`` of the device embedding table: (T, n_embd) float32."""
        with self.device, self.stream:
            ids_dev = cupy.asarray(np.ascontiguousarray(ids, dtype=np.int32))  # (T,)
            return self.kernels.get_rows(table, ids_dev)

    def embed_step(self, table: Any) -> Any:
        """The row of the token in ``token_buffer`` (set by set_step): (1, n_embd); graph-safe."""
        return self.kernels.get_rows(table, self.token_buffer)

    def set_step(self, token: int, start_pos: int) -> None:
        """Token id and position of a one-token step into the device: one pinned 8-byte copy.
        The previous step's copy has finished (its logits were read back)."""
        self._step_host[0], self._step_host[1] = token, start_pos
        with self.device:
            self.step_buffer.set(self._step_host, stream=self.stream)

    def _check_fused_q8(self, type_name: str) -> None:
        """Use the q8_1 written by the norm, attention and SwiGLU kernels only if it matches
        KernelSet.quantize_q8_1 (engine/backends/cuda_checks.py)."""
        self.fused_q8 = True  # let rms_norm write q8_1 for the check
        self.fused_q8_note = fused_q8_note(self, type_name)
        self.fused_q8 = self.fused_q8_note == AGREES

    def new_cache(self, cfg: LlamaConfig, n_layers: int, n_ctx: int) -> CudaCache:
        shape = (n_layers, n_ctx, cfg.n_head_kv, cfg.head_dim)
        with self.device:
            return CudaCache(cupy.zeros(shape, cupy.float32), cupy.zeros(shape, cupy.float32))

    def positions(self, start_pos: int, n_tokens: int) -> Positions:
        with self.device, self.stream:
            self.pos_buffer.set(np.array([start_pos], np.int32), stream=self.stream)
        return Positions(self.pos_buffer, start_pos, n_tokens)

    # -- ops (called inside `with device, stream`) -----------------------------------
    def _wants_q8(self, n_tokens: int, width: int) -> bool:
        return bool(self.fused_q8) and n_tokens <= MATVEC_MAX_COLS and width % 32 == 0

    def _q8_buffers(self, n_tokens: int, width: int, want_q: bool) -> tuple[Any, Any]:
        if not want_q:
            return self._no_q8
        xq = cupy.empty((n_tokens, width // 32, 32), cupy.int8)  # (T, chunks, 32)
        return xq, cupy.empty((n_tokens, width // 32, 2), cupy.float32)  # (T, chunks, (d, s))

    def rms_norm(self, x: Any, weight: Any, eps: float) -> Activation:
        """RMSNorm of every row of x (read only), in q8_1 too when useful: one launch of
        ceil(width / THREADS) CTAs per row."""
        x = cupy.ascontiguousarray(x)
        n_tokens, width = x.shape
        want_q = self._wants_q8(n_tokens, width)
        xq, xds = self._q8_buffers(n_tokens, width, want_q)
        out = cupy.empty_like(x)  # (T, n)
        self.launch(self.k_norm, (n_tokens, -(-width // THREADS)), (THREADS,),
                    (x, weight, out, xq, xds, np.int32(width), np.float32(eps), np.int32(want_q)))
        return Activation(out, xq, xds) if want_q else Activation(out)

    def linear_add_(self, x: Any, act: Any, weight: Any) -> Any:
        """x += linear(act, weight) in place; up to MATVEC_MAX_COLS rows the mat-vec adds into x
        itself (each output element has one writer), no separate add."""
        act = act if isinstance(act, Activation) else Activation(cupy.ascontiguousarray(act))
        if act.x.shape[0] > MATVEC_MAX_COLS or not x.flags.c_contiguous:
            return self.add_(x, self.linear(act, weight))
        if act.xq is not None and _takes_q8(weight, act.xq):
            return self.kernels.matvec_quantized(weight, act.xq, act.xds, x, accumulate=True)  # (T, rows)
        return self.kernels.matvec(weight, act.x, path=self.matvec_path, out=x, accumulate=True)

    def linear(self, x: Any, weight: Any) -> Any:
        act = x if isinstance(x, Activation) else Activation(cupy.ascontiguousarray(x))
        rows = act.x  # (T, row_len)
        if rows.shape[0] > MATVEC_MAX_COLS:
            w16 = self.kernels.dequantize_f16(weight)  # (rows, row_len) f16
            return cupy.matmul(rows.astype(cupy.float16), w16.T).astype(cupy.float32)  # (T, rows)
        if act.xq is not None and _takes_q8(weight, act.xq):
            return self.kernels.matvec_quantized(weight, act.xq, act.xds, None)  # (T, rows)
        return self.kernels.matvec(weight, rows, path=self.matvec_path)  # (T, rows)

    def rope(self, x: Any, n_heads: int, head_dim: int, pos: Positions, rope: RopeParams) -> Any:
        n = x.shape[0] * n_heads * (rope.dim // 2)
        args = (x, np.int32(x.strides[0] // 4), pos.buffer, np.int32(x.shape[0]), np.int32(n_heads),
                np.int32(head_dim), np.int32(rope.dim), np.int32(rope.neox), np.float32(math.log2(rope.base)),
                np.float32(1.0 / rope.scale))
        self.launch(self.k_rope, launch_blocks(n), (THREADS,), args)  # in place on the (possibly strided) slice
        return x

    def swiglu(self, gate_up: Any, n_ff: int) -> Activation:
        if isinstance(gate_up, tuple):
            gate_up = cupy.concatenate(gate_up, axis=1)  # (T, 2 * n_ff): [gate | up]
        gate_up = cupy.ascontiguousarray(gate_up)
        n_tokens = gate_up.shape[0]
        out = cupy.empty((n_tokens, n_ff), cupy.float32)
        want_q = self._wants_q8(n_tokens, n_ff)
        xq, xds = self._q8_buffers(n_tokens, n_ff, want_q)
        self.launch(self.k_swiglu, launch_blocks(out.size), (THREADS,),
                      (gate_up, out, np.int32(n_tokens), np.int32(n_ff), xq, xds, np.int32(want_q)))
        return Activation(out, xq, xds) if want_q else Activation(out)

    def argmax(self, logits: Any) -> Any:
        """Greedy sampling on the device: int32 (1,) = np.argmax of the last row of ``logits``
        (T, n_vocab) float32 (first index of the largest value; a NaN counts as largest)."""
        row = cupy.ascontiguousarray(logits[-1])  # (n_vocab,)
        token = cupy.empty((1,), cupy.int32)
        self.launch(self.k_argmax, (1,), (ARGMAX_THREADS,), (row, np.int32(row.shape[0]), token))
        return token

    def argmax_chain(self, logits: Any) -> Any:
        """Greedy sampling that feeds the next step on the device: the argmax of the last row of
        ``logits`` becomes the token in ``step_buffer`` and the position there advances by one,
        so the same decode step (graph) can run again without the host; the token also lands in
        a page-locked ring the kernel writes directly (``chained_token`` reads it once the step
        is done). Returns the step buffer."""
        row = cupy.ascontiguousarray(logits[-1])  # (n_vocab,)
        self.launch(self.k_argmax_chain, (1,), (ARGMAX_THREADS,),
                    (row, np.int32(row.shape[0]), self.step_buffer, self._token_ring_device, np.int32(TOKEN_RING)))
        return self.step_buffer

    def chained_token(self, pos: int) -> int:
        """The token argmax_chain chose after position ``pos`` (its step must have finished)."""
        return int(self._token_ring[pos % TOKEN_RING])

    def add_(self, x: Any, y: Any) -> Any:
        x += y
        return x

    def wait_for(self, src: Any) -> None:
        """Order this stream after ``src``'s work (two logical segments on one device)."""
        other = getattr(src, "stream", None)
        if other is not None and other is not self.stream:
            with self.device:
                self.stream.wait_event(other.record())


def _mapped_pointer(host: np.ndarray) -> int:
    """The device address of page-locked host memory (the same address under unified addressing)."""
    address = host.ctypes.data
    return int(cupy.cuda.runtime.pointerGetAttributes(address).devicePointer or address)


def _takes_q8(weight: Any, xq: Any) -> bool:
    """A quantized weight whose rows are as long as the q8_1 activations."""
    return not by_name(weight.type_name).is_float and weight.row_len == xq.shape[1] * 32


def cuda_ops_for(assignment: DeviceAssignment) -> CudaOps:
    return CudaOps(assignment.device_id, assignment.path)
