#!/usr/bin/env bash
# Sixteenth session (2026-12-07), first device call: the small kernels' load batching.
#   new  = this tree: ql_rms_norm loads its row (4 float4 per thread at once), its own element and
#          weight before the reduction; ql_argmax* load 16 logits per thread at once (and the chain
#          kernel its step position with them); the rope + split attention loads its query, key and
#          value pair with the step position (volatile loads: one L2 round trip instead of two) and
#          the values of each warp's first batch of keys with the keys (before the softmax);
#          the mat-vecs load a residual's old value before
#          the final reduction (ql_reduce_store, the warp kernel's store).
#   layer = HEAD + the layer ops without the value preload (.devrun/layer);
#   attnv = HEAD + all the layer ops (.devrun/attnv): new without the mat-vec change;
#   base = HEAD (.devrun/base).
#  1. GPU tests of what changed (norm widths, argmax rows, the residual adds of every mat-vec layout);
#  2. decode tg128 base / layer / attnv / new alternating, two rounds (8B IQ2_XXS, 1B Q4_K);
#  3. one-column mmvq at 65536x4096 and 4096x14336, base vs new (the mat-vec change moves registers).
# Run: the device tool, carry [".whl", ".devrun"]; LIMIT (default 480) = the seconds to plan for.
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-480}
for v in layer attnv; do rm -rf /tmp/$v; mkdir -p /tmp/$v; cp -r .devrun/$v/engine .devrun/$v/bench /tmp/$v/; done
export PYTHONPATH=/tmp/site:$A
timeout 170 python3 -m pytest -q -m gpu -p no:cacheprovider \
  tests/runtime/test_cuda_fused_ops.py tests/runtime/test_cuda_greedy.py tests/runtime/test_cuda_pdl_order.py \
  "tests/kernels/test_matvec_gpu.py::test_matvec_accumulate_adds_to_out" tests/kernels/test_mmvq_long_rows_gpu.py \
  tests/kernels/test_mmvq_warps_gpu.py > $OUT/gpu-tests.txt 2>&1
t "tests rc=$?"; tail -3 $OUT/gpu-tests.txt | cut -c1-200
RUNS=8B:IQ2_XXS,1B:Q4_K
for r in 1 2; do
  for tree in base layer attnv new; do
    [ $(left $((L - 60))) -gt 30 ] || break 2
    dir=$A; [ $tree != new ] && dir=/tmp/$tree
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left $((L - 60))) python3 bench/decode.py --runs $RUNS --out $OUT/ab-$tree-$r) \
      > /tmp/ab.txt 2>&1; t "decode $tree round $r rc=$?"
    { echo "== $tree round $r"; cat /tmp/ab.txt; } >> $OUT/decode-ab-logs.txt; grep '^| [18]B' /tmp/ab.txt | cut -c1-75
  done
done
for tree in base new; do
  [ $(left $L) -gt 15 ] || break
  dir=$A; [ $tree = base ] && dir=/tmp/base
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left $L) python3 bench/matvec.py --types Q4_0,Q8_0,Q4_K,IQ4_XS,IQ2_XXS \
    --shapes 65536x4096,4096x14336 --ncols 1 --paths mmvq --out /tmp/mv-$tree) > $OUT/matvec-$tree.txt 2>&1
  t "matvec $tree rc=$?"; summ $tree $OUT/matvec-$tree.txt
done
t done
true
