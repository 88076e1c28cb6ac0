"""Where a decode step's time goes, on one GPU: host phases and a kernel-level trace.

For each synthetic model (bench/decode.py's shapes and writer):
  * host phases of ``model.forward([token], pos)``: the whole call, the captured graph alone
    (replays), the step upload, the logits download, and a cProfile of the calls;
  * a kernel trace of a few graph replays (CUPTI through torch.profiler, when torch is there):
    per kernel name, launches and GPU microseconds per token, the idle gaps between kernels,
    and the first block's kernel sequence with each kernel's duration and the gap before it.

    python bench/profile_decode.py --runs 8B:Q4_0,1B:Q4_K --out /tmp/prof
Writes profile-<model>-<type>.json (raw numbers) under --out and prints a summary.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from decode import SHAPES, _default_tmp, parse_runs, precompile_kernels, write_fast_model  # noqa: E402

from engine.backends.spec import BackendSpec  # noqa: E402
from engine.model import load_model  # noqa: E402
from engine.synth_spec import SynthSpec  # noqa: E402

REPLAYS = 5


def _median_us(fn, reps: int = 50) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times)) * 1e6


def host_phases(model) -> dict:
    """Median microseconds of a one-token decode step (model.forward) and of its parts, plus
    the functions where a cProfile of such steps spends its own time."""
    import cProfile
    import io
    import pstats

    segment = model.segments[-1]
    ops = segment.ops
    graph = segment.captured_graphs()[0]
    pos = [10]

    def whole():
        model.forward([7], pos[0])
        pos[0] = 10 + (pos[0] - 9) % 50

    def replay():
        graph.launch(stream=ops.stream)
        ops.stream.synchronize()

    logits = next(iter(segment._graphs.values()))[1]  # the static logits buffer (1, n_vocab)
    phases = {
        "forward_us": _median_us(whole),
        "graph_replay_us": _median_us(replay),
        "set_step_us": _median_us(lambda: ops.set_step(7, 10)),
        "download_logits_us": _median_us(lambda: ops.download(logits)),
        "argmax_us": _median_us(lambda: int(np.argmax(ops.download(logits)[-1]))),
    }
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(20):
        whole()
    profiler.disable()
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(12)
    result = {k: round(v, 1) for k, v in phases.items()}
    result["cprofile_top"] = text.getvalue().splitlines()[:30]
    return result


def kernel_trace(model) -> dict:
    """Per-kernel GPU time and gaps over REPLAYS graph replays (needs torch with CUPTI)."""
    try:
        import torch
        from torch.profiler import ProfilerActivity, profile
    except Exception as exc:  # no torch here: the host phases still stand
        return {"error": f"no torch profiler: {exc}"}
    segment = model.segments[-1]
    ops = segment.ops
    graph = segment.captured_graphs()[0]
    torch.cuda.init()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(REPLAYS):
            graph.launch(stream=ops.stream)
            ops.stream.synchronize()
    path = Path("/tmp/ql-trace.json")
    prof.export_chrome_trace(str(path))
    events = [e for e in json.loads(path.read_text())["traceEvents"]
              if e.get("cat") == "kernel" and "dur" in e]
    events.sort(key=lambda e: e["ts"])
    if not events:
        return {"error": "the trace holds no kernels"}
    # Split into replays at the largest gaps (the host synchronises between replays).
    gaps = [b["ts"] - (a["ts"] + a["dur"]) for a, b in zip(events, events[1:], strict=False)]
    cut = sorted(range(len(gaps)), key=lambda i: -gaps[i])[: REPLAYS - 1]
    bounds = [0] + sorted(i + 1 for i in cut) + [len(events)]
    replays = [events[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    per_name: dict[str, list[float]] = {}
    span, busy = [], []
    for rep in replays:
        span.append(rep[-1]["ts"] + rep[-1]["dur"] - rep[0]["ts"])
        busy.append(sum(e["dur"] for e in rep))
        for e in rep:
            per_name.setdefault(e["name"], []).append(e["dur"])
    n = len(replays)
    table = sorted(((name, len(d) / n, sum(d) / n) for name, d in per_name.items()), key=lambda r: -r[2])
    first = replays[-1][:24]
    sequence = [{"name": e["name"], "us": round(e["dur"], 2),
                 "gap_before_us": round(e["ts"] - (first[i - 1]["ts"] + first[i - 1]["dur"]), 2) if i else 0.0}
                for i, e in enumerate(first)]
    return {"replays": n, "kernels_per_token": len(replays[-1]),
            "span_us": round(float(np.median(span)), 1), "busy_us": round(float(np.median(busy)), 1),
            "gaps_us": round(float(np.median(span)) - float(np.median(busy)), 1),
            "by_name": [{"name": a, "per_token": round(b, 1), "us_per_token": round(c, 1)} for a, b, c in table],
            "first_kernels": sequence}


def profile_one(label: str, type_name: str, tmp: Path, out: Path) -> dict:
    path = tmp / f"profile-{label}-{type_name}.gguf"
    write_fast_model(path, SynthSpec(**SHAPES[label], weight_type=type_name))
    model = load_model(path, BackendSpec.single_gpu(SHAPES[label]["n_layers"], "mmvq"), n_ctx=1024)
    try:
        for pos in range(4):  # eager, then capture, then replays
            model.forward([pos + 1], pos)
        result = {"model": label, "type": type_name, "host": host_phases(model), "trace": kernel_trace(model)}
    finally:
        model.close()
        path.unlink(missing_ok=True)
    (out / f"profile-{label}-{type_name}.json").write_text(json.dumps(result, indent=1))
    return result


def summary(result: dict) -> str:
    host = dict(result["host"])
    top = host.pop("cprofile_top", [])
    lines = [f"## {result['model']} {result['type']}", json.dumps(host)] + top[-16:]
    trace = result["trace"]
    if "error" in trace:
        return "\n".join(lines + [trace["error"]])
    lines.append(f"kernels/token {trace['kernels_per_token']}, span {trace['span_us']} us, "
                 f"busy {trace['busy_us']} us, gaps {trace['gaps_us']} us")
    lines += [f"  {r['us_per_token']:8.1f} us  x{r['per_token']:5.1f}  {r['name']}" for r in trace["by_name"][:14]]
    lines += [f"  seq {s['gap_before_us']:6.2f} + {s['us']:6.2f}  {s['name']}" for s in trace["first_kernels"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="8B:Q4_0,1B:Q4_K")
    parser.add_argument("--tmp", default=_default_tmp())
    parser.add_argument("--out", type=Path, default=Path("/tmp/ql-profile"))
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    runs = parse_runs(args.runs)
    precompile_kernels(runs, "mmvq")
    for label, type_name in runs:
        print(summary(profile_one(label, type_name, Path(args.tmp), args.out)), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
