"""Does the decode rate depend on where a capture's buffers land? (fifteenth 2026-12-07 session)

The chained-steps runs gave the same greedy decode at 283 to 317 tokens/s (8B Q8_0) depending
on which captured graph ran, with no order in K or in capture order. Here one loaded model is
re-captured TRIALS times (its graphs dropped), each time after a different amount of device
memory was taken from the pool first, so the capture's intermediate buffers land elsewhere; each
capture is timed twice (tg128 of greedy_tokens, one step per graph). One JSON line per trial.

    python bench/experiments/2026-12-07-fifteenth-capture-spread.py 8B:Q8_0,1B:Q4_K
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import cupy
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: decode.py

import decode  # noqa: E402

from engine.backends.spec import BackendSpec  # noqa: E402
from engine.model import load_model  # noqa: E402
from engine.synth_spec import SynthSpec  # noqa: E402

TRIALS = 10
SHIFT = (1 << 20) + 4096 * 3  # bytes taken from the pool before each further capture


def greedy_rate(model, first: int, n: int) -> float:
    model.reset()
    stream = model.greedy_tokens(first, 0)
    start = time.perf_counter()
    for _ in range(n):
        next(stream)
    elapsed = time.perf_counter() - start
    stream.close()
    return n / elapsed


def measure(label: str, type_name: str, tmp: str) -> None:
    path = Path(tmp) / f"spread-{label}-{type_name}.gguf"
    decode.write_fast_model(path, SynthSpec(**decode.SHAPES[label], weight_type=type_name))
    model = load_model(path, BackendSpec.single_gpu(decode.SHAPES[label]["n_layers"], "mmvq"), n_ctx=1024)
    segment, held, rates = model.segments[0], [], []
    try:
        first = int(np.random.default_rng(1).integers(0, model.n_vocab))
        model.forward([first] * 16, 0)  # warm-up: kernel loading, memory pool
        for trial in range(TRIALS):
            segment._graphs.clear()  # noqa: SLF001  (an experiment: drop the captures)
            segment._steps_seen.clear()  # noqa: SLF001
            with segment.ops.device:
                held.append(cupy.empty((SHIFT * trial,), cupy.uint8) if trial else None)
            greedy_rate(model, first, 8)  # an eager step, the capture, replays
            pair = [round(greedy_rate(model, first, decode.TG), 1) for _ in range(2)]
            rates.append(float(np.mean(pair)))
            print(json.dumps({"model": label, "type": type_name, "trial": trial, "shift_bytes": SHIFT * trial,
                              "tg128_tps": pair}), flush=True)
        print(f"{label} {type_name} tg128 over {TRIALS} captures: min {min(rates):.1f}, median "
              f"{float(np.median(rates)):.1f}, max {max(rates):.1f}", flush=True)
    finally:
        model.close()
        path.unlink(missing_ok=True)


def main() -> None:
    runs = decode.parse_runs(sys.argv[1])
    print(f"card: {decode.card_name()} ({decode.card_details()})", flush=True)
    decode.precompile_kernels(runs, "mmvq")
    for label, type_name in runs:
        measure(label, type_name, decode._default_tmp())


if __name__ == "__main__":
    main()
