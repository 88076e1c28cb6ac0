#!/usr/bin/env bash
# Sixteenth session (2026-12-07), fourth device call (short: about 300 s of device time left).
#   new  = this tree: the residual add that a norm follows is done by that norm
#          (ql_add_rms_norm: total = x + y and its RMSNorm; x and y loaded as one batch of
#          volatile float4 loads), so the attention-output and (but for a segment's last block)
#          feed-forward mat-vecs store their result instead of adding it into x: no load at the
#          end of their CTAs. engine/model/forward.py hands the feed-forward output on to the next
#          block's first norm.
#   base = HEAD (.devrun/base).
#  1. GPU tests of what changed: the norm and add + norm ops, the mat-vec residual add, CPU vs
#     CUDA logits (Q4_K, IQ2_XXS, Q8_0 on mmvq; Q4_K on dmmv), two logical devices, greedy;
#  2. decode tg128 base / new alternating, two rounds (8B IQ2_XXS, 1B Q4_K).
# Run: the device tool, carry [".whl", ".devrun"]; LIMIT (default 190) = the seconds to plan for.
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-190}
export PYTHONPATH=/tmp/site:$A
timeout 75 python3 -m pytest -q -m gpu -p no:cacheprovider -x tests/runtime/test_cuda_fused_ops.py -k "norm or linear_add" \
  "tests/runtime/test_backend_cuda.py::test_cuda_matches_cpu_for_every_type_and_path[Q4_K-mmvq]" \
  "tests/runtime/test_backend_cuda.py::test_cuda_matches_cpu_for_every_type_and_path[IQ2_XXS-mmvq]" \
  "tests/runtime/test_backend_cuda.py::test_cuda_matches_cpu_for_every_type_and_path[Q8_0-mmvq]" \
  "tests/runtime/test_backend_cuda.py::test_cuda_matches_cpu_for_every_type_and_path[Q4_K-dmmv]" \
  tests/runtime/test_backend_cuda.py::test_two_logical_devices_and_cpu_layers \
  tests/runtime/test_cuda_greedy.py > $OUT/gpu-tests.txt 2>&1
t "tests rc=$?"; tail -3 $OUT/gpu-tests.txt | cut -c1-200
RUNS=8B:IQ2_XXS,1B:Q4_K
for r in 1 2; do
  for tree in base new; do
    [ $(left $L) -gt 25 ] || break 2
    dir=$A; [ $tree = base ] && dir=/tmp/base
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left $L) python3 bench/decode.py --runs $RUNS --out /tmp/ab-$tree-$r) \
      > /tmp/ab.txt 2>&1; t "decode $tree round $r rc=$?"
    { echo "== $tree round $r"; cat /tmp/ab.txt; } >> $OUT/decode-ab-logs.txt; grep '^| [18]B' /tmp/ab.txt | cut -c1-75
  done
done
t done
true
