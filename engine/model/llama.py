"""LlamaModel: embedding -> segments of blocks (CPU or GPU) -> final norm -> output head."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from engine.backends.cpu import CpuOps
from engine.backends.ops import Ops
from engine.backends.spec import BackendSpec
from engine.model.config import ArchPreset, LlamaConfig
from engine.model.forward import Segment
from engine.model.weights import EmbeddingTable, WeightFile, expected_shapes
from engine.model_info import ModelInfo
from engine.sampling import NOT_FINITE_TOKEN, greedy_token

ProgressFn = Callable[[str, int, int], None]


def segment_plan(spec: BackendSpec, n_layers: int) -> list[tuple[tuple[int, int], Any]]:
    """[(layer range, DeviceAssignment or None for the CPU)] covering every block in order."""
    plan: list[tuple[tuple[int, int], Any]] = []
    cursor = 0
    for assignment in sorted(spec.assignments if spec.kind == "cuda" else (), key=lambda a: a.layers):
        start, end = max(assignment.layers[0], cursor), min(assignment.layers[1], n_layers)
        if start >= end:
            continue
        if start > cursor:
            plan.append(((cursor, start), None))
        plan.append(((start, end), assignment))
        cursor = end
    if cursor < n_layers:
        plan.append(((cursor, n_layers), None))
    return plan


def _same_device(src: Ops, dst: Ops) -> bool:
    return src is dst or (
        getattr(src, "device_id", None) is not None and getattr(src, "device_id", None) == getattr(dst, "device_id", None)
    )


def move(x: Any, src: Ops, dst: Ops) -> Any:
    """An activation (T, n) from one backend to another (through the host across devices)."""
    if not _same_device(src, dst):
        return dst.upload(src.download(x))
    wait_for = getattr(dst, "wait_for", None)
    if wait_for is not None:
        wait_for(src)
    return x


class LlamaModel:
    """The llama graph over segments; see engine.model.load_model for the contract."""

    def __init__(self, info: ModelInfo, cfg: LlamaConfig, preset: ArchPreset, backend: BackendSpec,
                 n_ctx: int, on_progress: ProgressFn | None = None):
        if n_ctx < 1:
            raise ValueError(f"n_ctx must be positive, got {n_ctx}")
        self.info, self.cfg, self.n_ctx, self.n_vocab = info, cfg, n_ctx, cfg.n_vocab
        self._file = WeightFile(info)
        self._progress = on_progress or (lambda stage, done, total: None)
        self._done, self._total = 0, sum(t.n_bytes for t in info.tensors)
        self.segments: list[Segment] = []
        for layers, assignment in segment_plan(backend, cfg.n_layers):
            self.segments.append(self._build_segment(preset, layers, assignment))
        self._load_head()
        self._progress("load", self._total, self._total)

    def _tick(self, n_bytes: int) -> None:
        self._done += n_bytes
        self._progress("load", self._done, self._total)

    def _build_segment(self, preset: ArchPreset, layers: tuple[int, int], assignment: Any) -> Segment:
        if assignment is None:
            segment = Segment(CpuOps(), self.cfg, layers, self.n_ctx)
        else:
            from engine.backends.cuda import cuda_ops_for  # CuPy only when asked for
            from engine.backends.cuda_segment import CudaSegment

            segment = CudaSegment(cuda_ops_for(assignment), self.cfg, layers, self.n_ctx)
        for layer in range(*layers):
            raw = self._file.block(preset, self.cfg, layer)
            segment.add_block(raw)
            self._tick(sum(t.data.nbytes for t in raw.values()))
        return segment

    def _load_head(self) -> None:
        cfg, head_ops = self.cfg, self.segments[-1].ops
        embd = self._file.get("token_embd.weight", (cfg.n_vocab, cfg.n_embd))
        self._embedding = EmbeddingTable(embd)
        self._embed_ops: Ops = self.segments[0].ops
        norm = self._file.get("output_norm.weight", expected_shapes(cfg)["attn_norm"])
        self.tied_output = not self._file.has("output.weight")
        out = embd if self.tied_output else self._file.get("output.weight", (cfg.n_vocab, cfg.n_embd))
        self._head = (head_ops.load_vector(norm), head_ops.load_linear((out,)))
        self._device_table = self._device_embedding(embd)
        self._tick(embd.data.nbytes + norm.data.nbytes + (0 if self.tied_output else out.data.nbytes))
        self.segments[-1].tail = self._apply_head

    def _device_embedding(self, embd: Any) -> Any:
        """The token embedding on the first segment's GPU (lookups inside its decode graph),
        when that GPU also holds the output head (the memory plan counts the embedding there);
        the tied head's weight is reused. None: rows are looked up on the host."""
        first = self.segments[0]
        if not hasattr(first, "run_tokens") or not _same_device(first.ops, self.segments[-1].ops):
            return None
        if self.tied_output and embd.shape[1] % 8 == 0:
            return self._head[1]
        return first.ops.load_embedding(embd)

    def _apply_head(self, x: Any) -> Any:
        ops = self.segments[-1].ops
        norm, out = self._head
        return ops.linear(ops.rms_norm(x, norm, self.cfg.norm_eps), out)  # (T, n_vocab)

    def reset(self) -> None:
        """Forget the KV cache (positions are overwritten on the next forward)."""
        for segment in self.segments:
            segment.reset()

    def forward(self, tokens: Sequence[int], start_pos: int, *, all_logits: bool = False) -> np.ndarray:
        x, src = self._run(self._checked_ids(tokens, start_pos), start_pos, all_logits=all_logits, argmax=False)
        logits = src.download(x)  # (T or 1, n_vocab)
        return logits if all_logits else logits[-1]

    def next_token_greedy(self, token: int, pos: int) -> int:
        """Decode ``token`` at ``pos`` and return the greedy next token: ``greedy_token`` of the
        logits ``forward([token], pos)`` gives (np.argmax, or NOT_FINITE_TOKEN where they are not
        finite). Where the output head is on a GPU the argmax runs there (inside the decode
        graph) and 4 bytes come back instead of the logits."""
        ids = self._checked_ids([token], pos)
        last = self.segments[-1]
        if not hasattr(last.ops, "download_token"):
            with np.errstate(invalid="ignore", over="ignore"):
                return greedy_token(self.forward([token], pos))
        out, ops = self._run(ids, pos, all_logits=False, argmax=True)
        return ops.download_token(out)

    def greedy_tokens(self, token: int, pos: int) -> Iterator[int]:
        """Greedy continuation: feeds ``token`` at ``pos`` and yields the greedy next token, then
        feeds that at ``pos + 1`` and yields the next, and so on (the tokens repeated
        ``next_token_greedy`` calls give) until the context is full. On one GPU that holds the
        embedding and the head, each step takes its token from the step before on the device
        and one step is queued ahead of the one being read, so the GPU never waits for the host;
        a step queued past the consumer's last token only writes a cache row past the last
        position (overwritten before it is ever read). NOT_FINITE_TOKEN (logits not finite:
        damaged weights) ends the stream. Use the model for nothing else while iterating."""
        self._checked_ids([token], pos)
        segment = self.segments[0]
        if len(self.segments) != 1 or self._device_table is None or not hasattr(segment, "queue_chained_step"):
            yield from self._greedy_step_by_step(token, pos)
            return
        segment.ops.set_step(token, pos)
        done = segment.queue_chained_step(self._device_table)  # the step at pos
        while True:
            ahead = segment.queue_chained_step(self._device_table) if pos + 1 < self.n_ctx else None
            done.synchronize()
            token = segment.ops.chained_token(pos)
            yield token
            if ahead is None or token == NOT_FINITE_TOKEN:
                return
            done, pos = ahead, pos + 1

    def _greedy_step_by_step(self, token: int, pos: int) -> Iterator[int]:
        while pos < self.n_ctx:
            token = self.next_token_greedy(token, pos)
            yield token
            if token == NOT_FINITE_TOKEN:
                return
            pos += 1

    def _checked_ids(self, tokens: Sequence[int], start_pos: int) -> np.ndarray:
        ids = np.asarray(list(tokens), dtype=np.int64)  # (T,)
        if ids.size == 0:
            raise ValueError("forward needs at least one token")
        if start_pos < 0 or start_pos + ids.size > self.n_ctx:
            raise ValueError(f"positions {start_pos}..{start_pos + ids.size - 1} exceed the context of {self.n_ctx}")
        if ids.min() < 0 or ids.max() >= self.n_vocab:
            raise ValueError(f"token id out of range 0..{self.n_vocab - 1}")
        return ids

    def _run(self, ids: np.ndarray, start_pos: int, *, all_logits: bool, argmax: bool) -> tuple[Any, Ops]:
        """Every segment on ``ids``: (the last one's output, its ops). ``argmax`` only when the
        last segment can take it (CudaSegment): its output is then the device token."""
        x, src = None, self._embed_ops
        for index, segment in enumerate(self.segments):
            is_last = index == len(self.segments) - 1
            flags = dict(with_tail=is_last, last_only=is_last and not all_logits)
            if is_last and argmax:
                flags["argmax"] = True
            if index == 0 and self._device_table is not None:  # embedding lookup on the GPU
                x = segment.run_tokens(self._device_table, ids, start_pos, **flags)
            else:
                if x is None:
                    x = self._embed_ops.upload(self._embedding.lookup(ids))  # (T, n_embd)
                x = segment.run(move(x, src, segment.ops), start_pos, **flags)
            src = segment.ops
        return x, src

    def close(self) -> None:
        for segment in self.segments:
            segment.close()
        self.segments = []
        self._file.close()
