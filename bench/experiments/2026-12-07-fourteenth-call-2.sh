#!/usr/bin/env bash
# Fourteenth session, second call, on HEAD 1b686be (cluster merge landed) + chained greedy steps in
# batches of CudaSegment.chain_steps per CUDA graph (default still 1):
#  1. the runtime GPU suite (the attention methods moved to cuda_attend.py; greedy_tokens in
#     batches, test_cuda_greedy with 5 steps per graph);
#  2. 2026-12-07-fourteenth-chain-steps.py: tg128 with 1, 2, 4, 8 steps per graph, alternating,
#     three rounds, tokens compared (8B Q8_0, IQ2_XXS, Q4_0, 1B Q4_K);
#  3. the full decode table (bench/decode.py defaults) with --chain-steps 1 and 4.
# First: git apply bench/experiments/2026-12-07-fourteenth-chain-steps.patch (NOT run: no device
# machine could be started for it). Run: the device tool, carry [".whl", ".devrun"], about 330 s; LIMIT (default 560) = the seconds to plan for.
. "$(dirname "$0")/device-call-preamble.sh"
export PYTHONPATH=/tmp/site:$A
L=${LIMIT:-560}
timeout $(( L / 4 )) python3 -m pytest -q -m gpu -p no:cacheprovider tests/runtime/ > $OUT/gpu-tests-runtime.txt 2>&1; t "runtime tests rc=$?"; tail -3 $OUT/gpu-tests-runtime.txt
timeout $(left $(( L * 3 / 4 ))) python3 bench/experiments/2026-12-07-fourteenth-chain-steps.py 8B:Q8_0,8B:IQ2_XXS,1B:Q4_K,8B:Q4_0 1,4,8,2 > $OUT/chain-steps.txt 2>&1; t "chain steps rc=$?"
grep -v '^{' $OUT/chain-steps.txt; grep -c '"same_tokens": false' $OUT/chain-steps.txt
for k in 1 4; do
  [ $(left $L) -gt 45 ] || break
  timeout $(left $L) python3 bench/decode.py --chain-steps $k --out $OUT/decode-k$k > $OUT/decode-k$k.txt 2>&1; t "decode k=$k rc=$?"
  grep '^|' $OUT/decode-k$k.txt | cut -c1-75
done
t done
true
