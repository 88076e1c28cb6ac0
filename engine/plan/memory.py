"""Memory estimates and the layer split: pure arithmetic over the tensor census.

Per device: weights of its blocks (+ the output head on the device holding the last
block when every block is on a GPU) + KV cache (f16 K and V per block) + scratch (CUDA
context, one fp16 dequantized weight for prompt GEMMs, activations and attention scores
of one prompt batch, logits on the output device). Blocks [0, n_cpu) run on the CPU and
[n_cpu, n_layers) on the GPUs in device order (the llama.cpp convention: the last blocks
are offloaded first).
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.devices.inventory import MIB
from engine.model_info import Hyperparams, ModelInfo

F16_BYTES = 2
F32_BYTES = 4


@dataclass(frozen=True)
class MemoryPolicy:
    safety_fraction: float = 0.05  # of the device's free memory, left untouched
    safety_bytes: int = 256 * MIB  # plus this much
    cuda_context_bytes: int = 320 * MIB  # CUDA context, cuBLAS workspace, loaded kernels
    batch_tokens: int = 512  # prompt tokens processed at once


@dataclass(frozen=True)
class ModelCosts:
    """What each part of the model costs on a GPU, for one context size."""

    layer_weights: tuple[int, ...]  # bytes per block, index = block
    kv_per_layer: int  # bytes of K+V cache per block
    output_bytes: int  # non-block tensors (embeddings, output head, norm) + logits buffer
    scratch: int  # working buffers per used device

    def layer_cost(self, layer: int) -> int:
        return self.layer_weights[layer] + self.kv_per_layer

    @property
    def n_layers(self) -> int:
        return len(self.layer_weights)


def kv_cache_bytes(hparams: Hyperparams, context: int, n_layers: int) -> int:
    """2 (K and V) * blocks * context * n_head_kv * head_dim * 2 bytes (f16)."""
    return 2 * n_layers * context * hparams.n_head_kv * hparams.head_dim * F16_BYTES


def scratch_bytes(model: ModelInfo, context: int, policy: MemoryPolicy) -> int:
    hp = model.hparams
    batch = policy.batch_tokens
    largest = max((t.n_elements for t in model.tensors if t.layer is not None), default=0)
    dequant_buffer = largest * F16_BYTES  # one weight matrix as fp16 for a prompt GEMM
    activations = batch * (4 * hp.n_embd + 3 * hp.n_ff) * F32_BYTES  # (batch, width) f32 buffers
    scores = batch * context * hp.n_head * F32_BYTES  # (n_head, batch, context) attention scores
    return policy.cuda_context_bytes + dequant_buffer + activations + scores


def model_costs(model: ModelInfo, context: int, policy: MemoryPolicy) -> ModelCosts:
    hp = model.hparams
    layer_weights = tuple(model.layer_bytes(i) for i in range(hp.n_layers))
    logits = policy.batch_tokens * hp.vocab_size * F32_BYTES  # (batch, vocab) f32
    return ModelCosts(
        layer_weights=layer_weights,
        kv_per_layer=kv_cache_bytes(hp, context, 1),
        output_bytes=model.non_layer_bytes() + logits,
        scratch=scratch_bytes(model, context, policy),
    )


def device_budget(free: int, policy: MemoryPolicy) -> int:
    """Bytes the model may use on a device with ``free`` bytes free (before scratch)."""
    return int(free * (1.0 - policy.safety_fraction)) - policy.safety_bytes


def _range_cost(costs: ModelCosts, start: int, end: int) -> int:
    return sum(costs.layer_cost(i) for i in range(start, end)) + costs.scratch


def _fits(costs: ModelCosts, counts: list[int], budgets: list[int], n_gpu: int) -> bool:
    start = costs.n_layers - n_gpu
    last_used = max((i for i, c in enumerate(counts) if c), default=-1)
    for i, (count, budget) in enumerate(zip(counts, budgets, strict=True)):
        if count == 0:
            continue
        need = _range_cost(costs, start, start + count)
        if i == last_used and n_gpu == costs.n_layers:
            need += costs.output_bytes
        if need > budget:
            return False
        start += count
    return True


def _proportional(n_gpu: int, weights: list[int] | list[float]) -> list[int]:
    total = sum(weights)
    if total <= 0:
        return [0] * len(weights)
    counts, assigned, cumulative = [], 0, 0
    for weight in weights:
        cumulative += weight
        upto = round(n_gpu * cumulative / total)
        counts.append(upto - assigned)
        assigned = upto
    return counts


def _greedy(costs: ModelCosts, n_gpu: int, budgets: list[int]) -> list[int]:
    counts, layer = [], costs.n_layers - n_gpu
    for device, budget in enumerate(budgets):
        count, used = 0, costs.scratch
        while layer < costs.n_layers and used + costs.layer_cost(layer) <= budget:
            used += costs.layer_cost(layer)
            layer, count = layer + 1, count + 1
        counts.append(count)
        if layer == costs.n_layers:
            counts.extend([0] * (len(budgets) - device - 1))
            break
    return counts if layer == costs.n_layers else [0] * len(budgets)


def split_layers(costs: ModelCosts, budgets: list[int], max_gpu_layers: int) -> list[int]:
    """Blocks per device (in device order) for the most blocks that fit, at most ``max_gpu_layers``.

    Tries a split in proportion to each device's budget first, then a greedy fill.
    """
    weights = [max(b - costs.scratch, 0) for b in budgets]
    for n_gpu in range(min(max_gpu_layers, costs.n_layers), 0, -1):
        for counts in (_proportional(n_gpu, weights), _greedy(costs, n_gpu, budgets)):
            if sum(counts) == n_gpu and _fits(costs, counts, budgets, n_gpu):
                return counts
    return [0] * len(budgets)


def ideal_ratio_counts(n_gpu: int, ratios: list[float]) -> list[int]:
    """Blocks per device exactly in proportion to ``ratios`` (memory not considered)."""
    return _proportional(n_gpu, ratios)


def _largest_fit(costs: ModelCosts, start: int, count: int, budget: int, with_output: bool) -> int:
    """The most blocks from ``start`` (at most ``count``) that fit in ``budget``."""
    used = costs.scratch + (costs.output_bytes if with_output else 0)
    fitted = 0
    while fitted < count and used + costs.layer_cost(start + fitted) <= budget:
        used += costs.layer_cost(start + fitted)
        fitted += 1
    return fitted


def _first_overflow(costs: ModelCosts, counts: list[int], budgets: list[int], n_gpu: int) -> tuple[int, int] | None:
    """(device, blocks it has room for) for the first device whose blocks do not fit; None if all fit."""
    start = costs.n_layers - n_gpu
    last_used = max((i for i, c in enumerate(counts) if c), default=-1)
    for i, (count, budget) in enumerate(zip(counts, budgets, strict=True)):
        with_output = i == last_used and n_gpu == costs.n_layers
        need = _range_cost(costs, start, start + count) + (costs.output_bytes if with_output else 0)
        if count and need > budget:
            return i, _largest_fit(costs, start, count - 1, budget, with_output)
        start += count
    return None


def _capped_shares(n_gpu: int, ratios: list[float], caps: list[int | None]) -> list[int] | None:
    """``n_gpu`` blocks in proportion to ``ratios`` with no device above its cap; None: no room."""
    counts, fixed = [0] * len(ratios), set()
    while True:
        free = [i for i, ratio in enumerate(ratios) if ratio > 0 and i not in fixed]
        rest = n_gpu - sum(counts[i] for i in fixed)
        if not free:
            return counts if rest == 0 else None
        shares = _proportional(rest, [ratios[i] for i in free])
        over = [i for i, share in zip(free, shares, strict=True) if caps[i] is not None and share > caps[i]]
        if not over:
            for i, share in zip(free, shares, strict=True):
                counts[i] = share
            return counts
        for i in over:
            counts[i] = caps[i]
            fixed.add(i)


def split_by_ratio(costs: ModelCosts, budgets: list[int], ratios: list[float], max_gpu_layers: int) -> list[int]:
    """Blocks per device in proportion to ``ratios`` (a tensor split), for the most blocks that fit.

    A device too small for its share keeps what fits and the rest goes to the other devices
    with a share, in proportion to theirs; a device with share 0 gets no blocks.
    """
    for n_gpu in range(min(max_gpu_layers, costs.n_layers), 0, -1):
        caps: list[int | None] = [None] * len(budgets)
        for _ in range(2 * len(budgets) + 2):  # each round lowers one device's cap
            counts = _capped_shares(n_gpu, ratios, caps)
            if counts is None:
                break
            overflow = _first_overflow(costs, counts, budgets, n_gpu)
            if overflow is None:
                return counts
            device, room = overflow
            caps[device] = room if caps[device] is None else min(caps[device], room)
    return [0] * len(budgets)


def split_for(costs: ModelCosts, budgets: list[int], max_gpu_layers: int, ratios: list[float] | None) -> list[int]:
    """The layer split: by ``ratios`` when given (a tensor split), else by free memory."""
    if ratios is None:
        return split_layers(costs, budgets, max_gpu_layers)
    return split_by_ratio(costs, budgets, ratios, max_gpu_layers)


def largest_fitting_context(
    model: ModelInfo, context: int, budgets: list[int], want_layers: int, policy: MemoryPolicy,
    ratios: list[float] | None = None,
) -> int | None:
    """The largest context (a multiple of 256, below ``context``) at which ``want_layers`` fit."""
    low, high, best = 1, (context - 1) // 256, None  # candidates: 256 * k
    while low <= high:
        middle = (low + high) // 2
        counts = split_for(model_costs(model, middle * 256, policy), budgets, want_layers, ratios)
        if sum(counts) >= want_layers:
            best, low = middle * 256, middle + 1
        else:
            high = middle - 1
    return best
