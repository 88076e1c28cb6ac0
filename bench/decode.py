"""Prefill (pp512) and decode (tg128) tokens/s of the llama model on the CUDA backend.

Synthetic "1B" / "8B" llama shapes (tensor plan from engine.synth, random valid blocks from
engine.quant.blocks, one layer's bytes reused for every layer so an 8B file writes in
seconds) in several types, plus the demo model. Checks before it times: decode logits of
the first generated tokens must match a batched forward of the same tokens. pp512 is the
median of PP_REPEATS timed 512-token forwards; tg128 one run of 128 greedy steps as the engine's
generate() takes them (LlamaModel.greedy_tokens: the argmax inside the decode graph on the GPU
feeds the next step on the device, one step queued ahead; since the 2026-12-06 fourth session);
the note's "step by step" the same 128 steps one next_token_greedy call each (the argmax on the
GPU, 4 bytes back per token, the host starting every step: tg128 before that session);
tg128_logits the same 128 steps with the logits copied to the host and np.argmax there (what
tg128 measured before the 2026-12-06 third session, and what sampling with a temperature or a
repetition penalty costs).

    python bench/decode.py                      # the default matrix (DEFAULT_RUNS), ~2-3 min on an H100
    python bench/decode.py --runs 1B:Q4_0,8B:Q4_K,demo:Q4_1 --out bench/results
Kernel modules for every run's types are compiled first, in parallel. Each run then has a Python
process of its own, as each model has its own engine process when the launcher starts one;
--in-process runs them one after another in this process instead (what this script did before
the eighteenth 2026-12-07 session: there 8B IQ2_XXS, the last of the default runs, decoded at
608-610 t/s against 614-617 alone; bench/results/experiments-2026-12-07.md). Where the time of a
decode step goes: bench/profile_decode.py. Files go to --tmp
(default /dev/shm where it exists, else /tmp) and are deleted after each run; never commit them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import gguf
import numpy as np
from card_info import card_details

from engine.backends.spec import BackendSpec
from engine.model import load_model
from engine.quant.blocks import random_blocks
from engine.quant.table import by_name
from engine.synth import plan_tensors
from engine.synth_spec import SynthSpec

SHAPES = {
    "1B": dict(n_layers=16, n_embd=2048, n_head=32, n_head_kv=8, n_ff=8192, vocab_size=32000),
    "8B": dict(n_layers=32, n_embd=4096, n_head=32, n_head_kv=8, n_ff=14336, vocab_size=32000),
}
PP, TG = 512, 128
PP_REPEATS = 5
DEFAULT_RUNS = "1B:Q4_K,8B:Q4_0,8B:Q4_K,8B:Q8_0,8B:IQ4_XS,8B:IQ2_XXS"


@dataclass(frozen=True)
class Record:
    model: str
    type: str
    backend: str
    kernel: str
    pp512_tps: float
    tg128_tps: float
    tg128_logits_tps: float
    card: str
    card_details: str = ""  # driver, clocks, power limit (bench/card_info.py)


def write_fast_model(path: Path, spec: SynthSpec, seed: int = 0) -> Path:
    """A llama GGUF of ``spec``'s shape quickly: random valid blocks, one set per tensor role."""
    rng = np.random.default_rng(seed)
    planned = plan_tensors(spec)
    writer = gguf.GGUFWriter(str(path), "llama")
    for key, value in (("block_count", spec.n_layers), ("embedding_length", spec.n_embd),
                       ("head_count", spec.n_head), ("head_count_kv", spec.n_head_kv),
                       ("feed_forward_length", spec.n_ff), ("context_length", 4096), ("vocab_size", spec.vocab_size)):
        getattr(writer, f"add_{key}")(value)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(500000.0)
    byte_cache: dict[tuple[str, tuple[int, ...]], np.ndarray] = {}
    for t in planned:
        shape = (t.n_bytes,) if len(t.shape) == 1 else (t.shape[1], t.n_bytes // t.shape[1])  # (rows, row bytes)
        writer.add_tensor_info(t.name, shape, np.dtype(np.uint8), t.n_bytes, raw_dtype=by_name(t.type_name).ggml_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for t in planned:
        key = (t.role, t.shape)
        if key not in byte_cache:
            if t.role == "norm":
                data = (1.0 + 0.1 * rng.standard_normal(t.shape[0])).astype(np.float32).view(np.uint8)  # (n*4,)
            else:
                n_blocks = int(np.prod(t.shape)) // by_name(t.type_name).block_elems
                data = random_blocks(t.type_name, n_blocks, rng).reshape(-1)  # (n_bytes,)
            byte_cache[key] = data
        writer.write_tensor_data(byte_cache[key])
    writer.close()
    return path


def _sync_forward(model, tokens, start):
    return model.forward(tokens, start)  # host logits: the copy back synchronises


def time_prefill(model, prompt: list[int]) -> float:
    """Median pp512 tokens/s of PP_REPEATS timed forwards (the cache reset before each): one
    forward lasts only ~50 ms on an 8B, and single readings of identical code spread by 10 %+."""
    rates = []
    for _ in range(PP_REPEATS):
        model.reset()
        start = time.perf_counter()
        _sync_forward(model, prompt, 0)
        rates.append(PP / (time.perf_counter() - start))
    model.reset()
    return float(np.median(rates))


def time_decode(first: int, step) -> float:
    """tokens/s of TG greedy steps from position 0; step(token, pos) -> the next token."""
    token, start = first, time.perf_counter()
    for pos in range(TG):
        token = step(token, pos)
    return TG / (time.perf_counter() - start)


def check_then_time(model, rng: np.random.Generator) -> tuple[float, float, float, float, float]:
    """(pp512 t/s, tg128 t/s, tg128 t/s with host logits, tg128 t/s one greedy step per call,
    check error ratio)."""
    prompt = rng.integers(0, model.n_vocab, size=PP).tolist()
    model.forward(prompt[:16], 0)  # warm-up: kernel loading, memory pool
    pp = time_prefill(model, prompt)
    steps = [model.forward([tok], pos) for pos, tok in enumerate(prompt[:6])]  # eager, then graph
    batched = model.forward(prompt[:6], 0, all_logits=True)
    check = float(np.abs(np.stack(steps) - batched).max() / (1e-3 + np.abs(batched).max()))
    model.reset()
    tg_logits = time_decode(int(prompt[0]), lambda tok, pos: int(np.argmax(model.forward([tok], pos))))
    model.reset()
    for pos in range(2):  # the greedy step graph: one eager step, then the capture
        model.next_token_greedy(int(prompt[pos]), pos)
    model.reset()
    tg_step = time_decode(int(prompt[0]), model.next_token_greedy)
    model.reset()
    time_greedy_stream(model, int(prompt[0]), 3)  # the chained step: eager, capture, replay
    model.reset()
    return pp, time_greedy_stream(model, int(prompt[0]), TG), tg_logits, tg_step, check


def time_greedy_stream(model, first: int, n: int) -> float:
    """tokens/s of n tokens of LlamaModel.greedy_tokens from position 0 (what generate() runs)."""
    stream, start = model.greedy_tokens(first, 0), time.perf_counter()
    for _ in range(n):
        next(stream)
    elapsed = time.perf_counter() - start
    stream.close()
    return n / elapsed


def graph_only_tps(model) -> str:
    """Decode steps/s of the captured graph alone (no host work), to show host overhead."""
    segment = model.segments[-1]
    graphs = segment.captured_graphs() if hasattr(segment, "captured_graphs") else []
    if not graphs:
        return "no graph"
    graph = graphs[0]
    stream = segment.ops.stream
    stream.synchronize()
    start = time.perf_counter()
    for _ in range(TG):
        graph.launch(stream=stream)
    stream.synchronize()
    return f"graph-only {TG / (time.perf_counter() - start):.0f} t/s"


def card_name() -> str:
    try:
        import cupy

        name = cupy.cuda.runtime.getDeviceProperties(0)["name"]
        return name.decode() if isinstance(name, bytes) else str(name)
    except Exception:
        return "cpu"


def bench_one(label: str, type_name: str, path: Path, kernel: str, card: tuple[str, str]) -> Record:
    """One run's record; ``card``: (name, details) of the GPU."""
    n_layers = gguf.GGUFReader(str(path)).fields["llama.block_count"].contents()
    model = load_model(path, BackendSpec.single_gpu(int(n_layers), kernel), n_ctx=1024)
    try:
        pp, tg, tg_logits, tg_step, check = check_then_time(model, np.random.default_rng(1))
        ops = model.segments[0].ops
        note = (f"{graph_only_tps(model)}, step by step {tg_step:.1f} t/s, fused q8_1: {ops.fused_q8_note}, split-KV: {ops.split_kv_note}, "
                f"rope in attention: {ops.rope_in_attention_note}, cluster merge: {ops.cluster_merge_note}, "
                f"PDL: {ops.launch.note}")
    finally:
        model.close()
    print(f"| {label} | {type_name} | cuda | {kernel} | {pp:9.1f} | {tg:7.1f} | {tg_logits:7.1f} | check {check:.2e}, "
          f"{note} |", flush=True)
    return Record(label, type_name, "cuda", kernel, round(pp, 1), round(tg, 1), round(tg_logits, 1), *card)


def _default_tmp() -> str:
    """/dev/shm when it can hold an 8B Q8_0 file (RAM-backed: fast writes and loads), else /tmp."""
    try:
        if os.access("/dev/shm", os.W_OK) and shutil.disk_usage("/dev/shm").free > 16 * 2**30:
            return "/dev/shm"
    except OSError:
        pass
    return "/tmp"


def parse_runs(text: str) -> list[tuple[str, str]]:
    """"1B:Q4_K,8B:Q4_0" -> [("1B", "Q4_K"), ("8B", "Q4_0")]."""
    runs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        label, _, type_name = item.partition(":")
        if label != "demo" and (label not in SHAPES or not type_name):
            raise SystemExit(f"bad run {item!r}: expected MODEL:TYPE with MODEL in {', '.join(SHAPES)} or demo")
        runs.append((label, type_name or "Q4_1"))
    return runs


def precompile_kernels(runs: list[tuple[str, str]], kernel: str) -> None:
    """Fill the kernel disk cache for every type the runs use (all modules in parallel)."""
    from engine.kernels.api import KernelSet

    types = sorted({t.type_name for label, type_name in runs if label in SHAPES
                    for t in plan_tensors(SynthSpec(**SHAPES[label], weight_type=type_name))})
    start = time.perf_counter()
    KernelSet.for_device(0, soft_dp4a=(kernel == "mmvq-soft")).precompile(types, workers=os.cpu_count())
    print(f"kernels for {', '.join(types)} ready in {time.perf_counter() - start:.0f} s", flush=True)


def run_one(label: str, type_name: str, args: argparse.Namespace, card: tuple[str, str]) -> Record | None:
    if label == "demo":
        from engine.demo import demo_model_path

        path = demo_model_path()
        if path is None:
            print("| demo | - | - | - | - | - | - | demo model package not installed |")
            return None
        return bench_one("demo", "Q4_1", path, args.kernel, card)
    path = Path(args.tmp) / f"bench-{label}-{type_name}.gguf"
    try:
        write_fast_model(path, SynthSpec(**SHAPES[label], weight_type=type_name))
        return bench_one(label, type_name, path, args.kernel, card)
    finally:
        path.unlink(missing_ok=True)


def run_isolated(label: str, type_name: str, args: argparse.Namespace) -> Record | None:
    """One run in a fresh Python process (this script with --in-process): its table row passed
    on, its record read back from the JSON file it writes; None when it has none (the demo
    model not installed) or failed (its error printed)."""
    with tempfile.TemporaryDirectory() as out:
        command = [sys.executable, str(Path(__file__).resolve()), "--runs", f"{label}:{type_name}", "--kernel", args.kernel,
                   "--tmp", args.tmp, "--out", out, "--in-process", "--precompiled"]
        done = subprocess.run(command, capture_output=True, text=True)
        rows = [line for line in done.stdout.splitlines() if line.startswith(f"| {label} |")]
        if rows:
            print("\n".join(rows), flush=True)
        if done.returncode != 0:
            tail = "\n".join((done.stderr or done.stdout).splitlines()[-12:])
            print(f"run {label}:{type_name} failed (exit status {done.returncode}):\n{tail}", flush=True)
            return None
        files = sorted(Path(out).glob("decode-*.json"))
        records = json.loads(files[0].read_text()) if files else []
        return Record(**records[0]) if records else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default=DEFAULT_RUNS, help="MODEL:TYPE,... (MODEL: 1B, 8B or demo)")
    parser.add_argument("--kernel", default="mmvq", choices=("mmvq", "dmmv", "mmvq-soft"))
    parser.add_argument("--tmp", default=_default_tmp())
    parser.add_argument("--out", default="bench/results")
    parser.add_argument("--tag", default="", help="appended to the results file name (e.g. a second machine)")
    parser.add_argument("--in-process", action="store_true", help="every run in this process (default: one process each)")
    parser.add_argument("--precompiled", action="store_true", help=argparse.SUPPRESS)  # a run's process: the parent compiled
    args = parser.parse_args(argv)
    runs, card, started = parse_runs(args.runs), (card_name(), card_details()), time.perf_counter()
    if not args.precompiled:
        precompile_kernels(runs, args.kernel)
    records: list[Record] = []
    print(f"card: {card[0]} ({card[1] or 'no NVML details'})")
    print("| model | type | backend | kernel | pp512 t/s | tg128 t/s | tg128 t/s, logits to host | check |\n"
          "|---|---|---|---|---|---|---|---|")
    for label, type_name in runs:
        record = run_one(label, type_name, args, card) if args.in_process else run_isolated(label, type_name, args)
        if record is not None:
            records.append(record)
    slug = card[0].replace(" ", "-").replace("/", "-")
    tag = f"-{args.tag}" if args.tag else ""
    out = Path(args.out) / f"decode-{slug}-{dt.date.today().isoformat()}{tag}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps([r.__dict__ for r in records], indent=1))
    print(f"wrote {out} ({time.perf_counter() - started:.0f} s in all)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
