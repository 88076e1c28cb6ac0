"""Chained greedy decode with K steps per CUDA graph (fourteenth 2026-12-07 session; results in
bench/results/raw-2026-12-07-fourteenth/): for each model, tg128 of LlamaModel.greedy_tokens (what
generate() runs) with CudaSegment.chain_steps = each K, the Ks alternating over ROUNDS rounds in
one loaded model, and the tokens of every K compared with K = 1's (they must be equal: only the
graph boundaries move). One JSON line per (model, K, round), then a summary line per model.
Needs 2026-12-07-fourteenth-chain-steps.patch applied (CudaSegment.chain_steps; NOT measured yet).

    python bench/experiments/2026-12-07-fourteenth-chain-steps.py 8B:Q8_0,8B:IQ2_XXS 1,2,4,8
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: decode.py, card_info.py

import decode  # noqa: E402

from engine.backends.spec import BackendSpec  # noqa: E402
from engine.model import load_model  # noqa: E402
from engine.synth_spec import SynthSpec  # noqa: E402

ROUNDS = 3


def greedy_run(model, first: int, n: int) -> tuple[float, list[int]]:
    """(tokens/s, tokens) of n tokens of greedy_tokens from position 0."""
    model.reset()
    stream, tokens = model.greedy_tokens(first, 0), []
    start = time.perf_counter()
    for _ in range(n):
        tokens.append(next(stream))
    elapsed = time.perf_counter() - start
    stream.close()
    return n / elapsed, tokens


def measure(label: str, type_name: str, ks: list[int], tmp: str) -> None:
    path = Path(tmp) / f"chain-{label}-{type_name}.gguf"
    decode.write_fast_model(path, SynthSpec(**decode.SHAPES[label], weight_type=type_name))
    n_layers = decode.SHAPES[label]["n_layers"]
    model = load_model(path, BackendSpec.single_gpu(n_layers, "mmvq"), n_ctx=1024)
    try:
        segment = model.segments[0]
        first = int(np.random.default_rng(1).integers(0, model.n_vocab))
        model.forward([first] * 16, 0)  # warm-up: kernel loading, memory pool
        for k in ks:  # each K's graphs: an eager batch, the capture, replays
            segment.chain_steps = k
            greedy_run(model, first, 4 * k)
        rates: dict[int, list[float]] = {k: [] for k in ks}
        want = None
        for rnd in range(ROUNDS):
            for k in ks:
                segment.chain_steps = k
                tps, tokens = greedy_run(model, first, decode.TG)
                want = tokens if want is None else want
                rates[k].append(tps)
                print(json.dumps({"model": label, "type": type_name, "chain_steps": k, "round": rnd,
                                  "tg128_tps": round(tps, 1), "same_tokens": tokens == want}), flush=True)
        medians = {k: round(float(np.median(v)), 1) for k, v in rates.items()}
        print(f"{label} {type_name} tg128 median by steps per graph: {medians}", flush=True)
    finally:
        model.close()
        path.unlink(missing_ok=True)


def main() -> None:
    runs = decode.parse_runs(sys.argv[1])
    ks = [int(k) for k in sys.argv[2].split(",")]
    print(f"card: {decode.card_name()} ({decode.card_details()})", flush=True)
    decode.precompile_kernels(runs, "mmvq")
    for label, type_name in runs:
        measure(label, type_name, ks, decode._default_tmp())


if __name__ == "__main__":
    main()
