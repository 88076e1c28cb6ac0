"""CudaSegment: a range of llama blocks on one GPU (CudaOps), with decode steps captured into
CUDA graphs once shapes are stable and replayed for every later token.

Graphs are kept per (input kind, with tail, argmax): "x" steps copy the input row into a
static buffer; "tokens" steps (``run_tokens``, the first segment when the token embedding lives
on this device) start from the token id in the device step buffer, so the row lookup is a
kernel inside the graph. With ``argmax`` (greedy decoding, last segment) the step ends in
``CudaOps.argmax`` and returns the token id on the device instead of the logits. A "chain" step
(``queue_chained_step``, greedy decoding on one GPU) ends in ``CudaOps.argmax_chain``: it leaves
the next token and position in the step buffer, so steps follow each other on the device.
"""

from __future__ import annotations

from typing import Any

import cupy
import numpy as np

from engine.backends.cuda import MAX_HEAD_DIM, CudaOps, Positions
from engine.diagnostics import DiagnosticError, Remedy, error
from engine.model.config import LlamaConfig
from engine.model.forward import Segment


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
        self._graphs: dict[tuple[str, bool, bool], tuple[Any, Any]] = {}  # key -> (graph, static output)
        self._static_inputs: dict[tuple[str, bool, bool], Any] = {}  # "x" keys -> (1, n_embd) input buffer
        self._steps_seen: dict[tuple[str, bool, bool], int] = {}
        self.use_graphs = True

    def captured_graphs(self) -> list[Any]:
        """The captured decode graphs (for benchmarks that replay them alone)."""
        return [graph for graph, _ in self._graphs.values()]

    def run(self, x: Any, start_pos: int, *, with_tail: bool = False, last_only: bool = False,
            argmax: bool = False) -> Any:
        """As Segment.run; ``argmax`` (with the tail): the greedy token of the last row instead of
        the logits, an int32 (1,) device array (CudaOps.download_token reads it)."""
        ops: CudaOps = self.ops
        argmax = argmax and with_tail
        with ops.device, ops.stream:
            if x.shape[0] == 1 and self.use_graphs:
                ops.positions(start_pos, 1)
                key = ("x", with_tail, argmax)
                static_in = self._static_inputs.get(key)
                if static_in is None:
                    static_in = self._static_inputs[key] = cupy.empty_like(x)  # (1, n_embd)
                x = cupy.ascontiguousarray(x)
                static_in.data.copy_from_device_async(x.data, x.nbytes, ops.stream)  # one memcpy, no kernel
                out = self._replay(key, lambda: self._step(static_in, with_tail, argmax))
                if out is not None:
                    return out
            out = super().run(x, start_pos, with_tail=with_tail, last_only=last_only)
            return ops.argmax(out) if argmax else out

    def run_tokens(self, table: Any, ids: np.ndarray, start_pos: int, *, with_tail: bool = False,
                   last_only: bool = False, argmax: bool = False) -> Any:
        """Like ``run`` from token ids: the rows of ``table`` (CudaOps.load_embedding) are looked
        up on the device, inside the decode graph for one-token steps."""
        ops: CudaOps = self.ops
        argmax = argmax and with_tail
        with ops.device, ops.stream:
            if ids.size == 1 and self.use_graphs:
                ops.set_step(int(ids[0]), start_pos)
                out = self._replay(("tokens", with_tail, argmax),
                                   lambda: self._step(ops.embed_step(table), with_tail, argmax))
                if out is not None:
                    return out
            x = ops.embed(table, ids)  # (T, n_embd)
            out = super().run(x, start_pos, with_tail=with_tail, last_only=last_only)
            return ops.argmax(out) if argmax else out

    def queue_chained_step(self, table: Any) -> Any:
        """Queue one greedy decode step that reads its token and position from the device step
        buffer and leaves the next ones there (CudaOps.argmax_chain; needs the tail). Returns an
        event recorded after it; ``ops.chained_token(pos)`` is valid once the event completes."""
        ops: CudaOps = self.ops
        with ops.device, ops.stream:
            step = lambda: ops.argmax_chain(self._step(ops.embed_step(table), with_tail=True))  # noqa: E731
            if not self.use_graphs or self._replay(("chain", True, True), step) is None:
                step()  # eager: the first step of its kind, or no graphs
            event = cupy.cuda.Event(disable_timing=True)
            event.record(ops.stream)
            return event

    def _replay(self, key: tuple[str, bool, bool], step: Any) -> Any | None:
        """Launch the graph of ``key`` and return its output buffer; None means "run this step
        eagerly" (the first step of a kind, or a step that could not be captured)."""
        entry = self._graphs.get(key)
        if entry is None:
            self._steps_seen[key] = self._steps_seen.get(key, 0) + 1
            if self._steps_seen[key] < 2:
                return None
            entry = self._capture(key, step)
            if entry is None:
                return None
        graph, static_out = entry
        graph.launch(stream=self.ops.stream)
        return static_out

    def _step(self, x: Any, with_tail: bool, argmax: bool = False) -> Any:
        pos = Positions(self.ops.pos_buffer, 0, 1)
        y = self.run_blocks(x, pos)
        if with_tail and self.tail is not None:
            y = self.tail(y)  # (1, n_vocab)
            return self.ops.argmax(y) if argmax else y
        return y

    def _capture(self, key: tuple[str, bool, bool], step: Any) -> tuple[Any, Any] | None:
        ops: CudaOps = self.ops
        ops.stream.begin_capture()
        try:
            static_out = step()
        except Exception:
            ops.stream.end_capture()
            self.use_graphs = False  # a kernel needed a host sync: stay eager
            return None
        try:
            graph = ops.stream.end_capture()
        except Exception:  # the capture was invalidated (e.g. a driver refused a launch attribute)
            self.use_graphs = False
            return None
        self._graphs[key] = (graph, static_out)
        return self._graphs[key]

    def close(self) -> None:
        self._graphs.clear()
        self._static_inputs.clear()
        super().close()
        with self.ops.device:
            self.ops.stream.synchronize()
            cupy.get_default_memory_pool().free_all_blocks()
