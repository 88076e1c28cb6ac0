#!/usr/bin/env bash
# Fifteenth session (2026-12-07), first device call after the chained-steps run found K > 1 tokens
# differing from K = 1 (8B IQ2_XXS, 1B Q4_K): ql_split_rope_partials read the position before
# griddepcontrol.wait, and in a graph of several chained steps argmax_chain (a few kernels back)
# writes it. On the tree with the chain-steps patch applied and that read moved after the wait:
#  1. the new PDL-order test on the tree before the fix (.devrun/unfixed: expect failures), then
#     on this tree with the greedy and fused-op GPU tests;
#  2. 2026-12-07-fourteenth-chain-steps.py with 1, 2, 3, 4, 6, 8, 16 steps per graph (tokens compared);
#  3. the decode table with --chain-steps 1 and 4; 4. the runtime GPU suite with what is left.
# Run: the device tool, carry [".whl", ".devrun"]; LIMIT (default 560) = the seconds to plan for.
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-560}
(cd .devrun/unfixed && PYTHONPATH=/tmp/site:$PWD timeout 90 python3 -m pytest -q -m gpu -p no:cacheprovider \
  tests/runtime/test_cuda_pdl_order.py > $OUT/pdl-order-unfixed.txt 2>&1); t "unfixed pdl-order rc=$?"
grep -E "passed|failed|FAILED" $OUT/pdl-order-unfixed.txt | cut -c1-150
export PYTHONPATH=/tmp/site:$A
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/runtime/test_cuda_pdl_order.py \
  tests/runtime/test_cuda_greedy.py tests/runtime/test_cuda_fused_ops.py > $OUT/gpu-tests-fixed.txt 2>&1
t "fixed tests rc=$?"; tail -3 $OUT/gpu-tests-fixed.txt | cut -c1-200
timeout $(left $(( L / 2 ))) python3 bench/experiments/2026-12-07-fourteenth-chain-steps.py \
  8B:Q8_0,8B:IQ2_XXS,1B:Q4_K,8B:Q4_0 1,2,3,4,6,8,16 > $OUT/chain-steps.txt 2>&1; t "chain steps rc=$?"
grep -v '^{' $OUT/chain-steps.txt; echo "differing token runs: $(grep -c '"same_tokens": false' $OUT/chain-steps.txt)"
for k in 1 4; do
  [ $(left $L) -gt 60 ] || break
  timeout $(left $L) python3 bench/decode.py --chain-steps $k --out $OUT/decode-k$k > $OUT/decode-k$k.txt 2>&1; t "decode k=$k rc=$?"
  grep '^|' $OUT/decode-k$k.txt | cut -c1-75
done
r=$(left $L); [ $r -gt 40 ] && { timeout $r python3 -m pytest -q -m gpu -p no:cacheprovider --durations=8 tests/runtime/ > $OUT/gpu-tests-runtime.txt 2>&1; t "runtime suite rc=$?"; tail -14 $OUT/gpu-tests-runtime.txt | cut -c1-160; }
t done
true
