#!/usr/bin/env bash
# Fifteenth session (2026-12-07), second device call, on the tree with the chain-steps patch and
# every layer kernel reading the step position through ql_step_pos (a volatile load after the
# wait; the first call showed ql_attention / ql_attention_split still failing the PDL-order test:
# ptxas had moved their ld.global.nc of pos above griddepcontrol.wait):
#  1. the PDL-order, greedy, fused-op and compile GPU tests;
#  2. the chain-steps script with the steps per graph in reverse order (16, 8, 4, 2, 1): does a
#     rate follow K or the order in which the graphs were captured?
#  3. decode tg128/pp512, HEAD (.devrun/base) vs this tree at 1 step per graph, alternating, 2 rounds.
# Run: the device tool, carry [".whl", ".devrun"]; LIMIT (default 300) = the seconds to plan for.
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-300}
export PYTHONPATH=/tmp/site:$A
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/runtime/test_cuda_pdl_order.py tests/runtime/test_cuda_greedy.py \
  tests/runtime/test_cuda_fused_ops.py tests/runtime/test_cuda_ops_compile.py > $OUT/gpu-tests.txt 2>&1
t "tests rc=$?"; tail -3 $OUT/gpu-tests.txt | cut -c1-200
timeout 60 python3 bench/experiments/2026-12-07-fourteenth-chain-steps.py 8B:Q8_0,1B:Q4_K 16,8,4,2,1 > $OUT/chain-steps-reversed.txt 2>&1
t "chain steps reversed rc=$?"; grep -v '^{' $OUT/chain-steps-reversed.txt
RUNS=8B:Q8_0,8B:IQ2_XXS,8B:Q4_0
for r in 1 2; do
  for tree in base new; do
    [ $(left $L) -gt 30 ] || break 2
    dir=$A; [ $tree = base ] && dir=/tmp/base
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left $L) python3 bench/decode.py --runs $RUNS --out $OUT/ab-$tree-$r) \
      > /tmp/ab.txt 2>&1; t "decode $tree round $r rc=$?"
    { echo "== $tree round $r"; cat /tmp/ab.txt; } >> $OUT/decode-ab-logs.txt; grep '^| 8B' /tmp/ab.txt | cut -c1-75
  done
done
t done
true
