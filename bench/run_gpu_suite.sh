#!/usr/bin/env bash
# One GPU session, end to end: the kernel self-check, every gpu-marked test, then the mat-vec
# and decode benchmarks. Run from the repo root on a machine with a CUDA GPU:
#     bash bench/run_gpu_suite.sh OUTDIR [TEST_SECONDS MATVEC_SECONDS DECODE_SECONDS]
# OUTDIR receives gpu.txt, kernels.txt, gpu-tests.txt and the benchmarks' JSON + markdown.
set -u
out=${1:-/tmp/ql-gpu}
test_s=${2:-200}; matvec_s=${3:-150}; decode_s=${4:-200}
mkdir -p "$out"
export PYTHONUNBUFFERED=1 CUDA_DEVICE_ORDER=PCI_BUS_ID
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv > "$out/gpu.txt" 2>&1
python3 -m engine kernels > "$out/kernels.txt" 2>&1
echo "kernels self-check rc=$?" >> "$out/kernels.txt"
timeout "$test_s" python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels tests/runtime > "$out/gpu-tests.txt" 2>&1
echo "gpu tests rc=$?" >> "$out/gpu-tests.txt"
timeout "$matvec_s" python3 bench/matvec.py --out "$out" ${MATVEC_ARGS:-} >> "$out/bench-log.txt" 2>&1 || echo "matvec rc=$?" >> "$out/gpu-tests.txt"
timeout "$decode_s" python3 bench/decode.py --out "$out" >> "$out/bench-log.txt" 2>&1 || echo "decode rc=$?" >> "$out/gpu-tests.txt"
ls -la "$out"
