"""Decode ablation: how much would taking a small kernel out of the decode chain gain?

CudaOps methods named by a mode return their first result (per shape) without launching
anything, so the captured decode graph lacks those kernels: the tokens are wrong, the time is
the upper bound of fusing them away. 8B synthetic models (bench/decode.py's shapes), tg128
greedy steps (one next_token_greedy call each, graph-replayed), two alternating passes over
the modes. GPU only. On sm_90 the merge runs inside the clustered attention launch
(engine/backends/cuda_attend.py), so the "_merge" mode takes nothing out there.

    python bench/ablate_decode.py Q8_0 IQ2_XXS --out bench/results
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from pathlib import Path

from decode import SHAPES, _default_tmp, card_name, write_fast_model

from engine.backends import cuda as cuda_mod
from engine.backends.spec import BackendSpec
from engine.model import load_model
from engine.synth_spec import SynthSpec

TG = 128
MODES = ((), ("rms_norm",), ("swiglu",), ("_merge",), ("_attend_qkv_rope_inside",), ("rms_norm", "swiglu"),
         ("rms_norm", "swiglu", "_attend_qkv_rope_inside"))
# method -> the part of its arguments that decides the output's shape (the cache key)
KEYS = {
    "rms_norm": lambda x, w, eps: (x.shape, id(w)),
    "swiglu": lambda gu, n_ff: (n_ff, tuple(t.shape for t in gu) if isinstance(gu, tuple) else gu.shape),
    "_merge": lambda part_o, part_ml, n_head, head_dim: (part_o.shape,),
    "_attend_qkv_rope_inside": lambda qkv, cfg, cache, layer, pos: (layer, qkv.shape),
}


class Ablation:
    """Patches the KEYS methods of CudaOps; methods in ``skipped`` replay their cached result."""

    def __init__(self):
        self.skipped: set[str] = set()
        self._results: dict[tuple, object] = {}
        for name in KEYS:
            setattr(cuda_mod.CudaOps, name, self._patched(name, getattr(cuda_mod.CudaOps, name)))

    def _patched(self, name, original):
        def method(ops, *args, **kwargs):
            key = (name, KEYS[name](*args))
            if name in self.skipped and key in self._results:
                return self._results[key]
            self._results[key] = result = original(ops, *args, **kwargs)
            return result

        return method


def greedy_tps(model, first: int) -> float:
    """tg128 after recapturing the decode graph (the ablation changes which kernels it holds)."""
    segment = model.segments[-1]
    segment._graphs.clear()
    segment._steps_seen.clear()
    model.reset()
    for pos in range(2):  # eager step, capture
        model.next_token_greedy(first, pos)
    model.reset()
    token, start = first, time.perf_counter()
    for pos in range(TG):
        token = model.next_token_greedy(token, pos)
    return TG / (time.perf_counter() - start)


def ablate(type_name: str, ablation: Ablation, tmp: str) -> dict[str, list[float]]:
    path = Path(tmp) / f"ablate-8B-{type_name}.gguf"
    write_fast_model(path, SynthSpec(**SHAPES["8B"], weight_type=type_name))
    model = load_model(path, BackendSpec.single_gpu(SHAPES["8B"]["n_layers"], "mmvq"), n_ctx=1024)
    try:
        model.forward([1, 2, 3, 4], 0)  # warm-up
        rates: dict[str, list[float]] = {}
        for _ in range(2):
            for mode in MODES:
                ablation.skipped = set(mode)
                rates.setdefault("+".join(mode) or "none", []).append(round(greedy_tps(model, 5), 1))
        ablation.skipped = set()
        return rates
    finally:
        model.close()
        path.unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("types", nargs="+")
    parser.add_argument("--out", default="/tmp")
    parser.add_argument("--tmp", default=_default_tmp())
    args = parser.parse_args()
    ablation, results = Ablation(), {}
    for type_name in args.types:
        results[type_name] = ablate(type_name, ablation, args.tmp)
        print(type_name, json.dumps(results[type_name]), flush=True)
    card = card_name()
    out = Path(args.out) / f"decode-ablation-{card.replace(' ', '-')}-{dt.date.today().isoformat()}.json"
    out.write_text(json.dumps({"card": card, "tg128_tps": results}, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
