#!/usr/bin/env bash
# Fourteenth session: call-2 cut to what fits the device time left (about 200 s): the GPU tests
# of the chained greedy path (test_cuda_greedy: batches of 1 and 5 steps per graph) and of the
# attention methods moved to cuda_attend.py, then tg128 with 1 / 4 / 8 steps per graph,
# alternating, three rounds, tokens compared (8B Q8_0, 8B IQ2_XXS, 1B Q4_K).
# First: git apply bench/experiments/2026-12-07-fourteenth-chain-steps.patch (NOT run: no device
# machine could be started for it). Run: the device tool, carry [".whl", ".devrun"].
. "$(dirname "$0")/device-call-preamble.sh"
export PYTHONPATH=/tmp/site:$A
timeout 60 python3 -m pytest -q -m gpu -p no:cacheprovider tests/runtime/test_cuda_greedy.py tests/runtime/test_cuda_fused_ops.py \
  tests/runtime/test_generate_synth.py > $OUT/gpu-tests-greedy-attend.txt 2>&1; t "tests rc=$?"; tail -3 $OUT/gpu-tests-greedy-attend.txt
timeout $(left 190) python3 bench/experiments/2026-12-07-fourteenth-chain-steps.py 8B:Q8_0,1B:Q4_K,8B:IQ2_XXS 1,4,8 > $OUT/chain-steps.txt 2>&1; t "chain steps rc=$?"
grep -v '^{' $OUT/chain-steps.txt; grep -c '"same_tokens": false' $OUT/chain-steps.txt
t done
true
