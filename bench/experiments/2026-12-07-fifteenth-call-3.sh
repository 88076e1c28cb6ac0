#!/usr/bin/env bash
# Fifteenth session (2026-12-07), third device call: 2026-12-07-fifteenth-capture-spread.py on the
# tree of the second call (one step per graph): the decode rate of TRIALS re-captures of one
# loaded model, each after taking more device memory from the pool (8B Q8_0, 1B Q4_K, 8B IQ2_XXS).
# Run: the device tool, carry [".whl", ".devrun"], about 100 s.
. "$(dirname "$0")/device-call-preamble.sh"
export PYTHONPATH=/tmp/site:$A
timeout ${LIMIT:-150} python3 bench/experiments/2026-12-07-fifteenth-capture-spread.py 8B:Q8_0,1B:Q4_K,8B:IQ2_XXS \
  > $OUT/capture-spread.txt 2>&1; t "capture spread rc=$?"
cat $OUT/capture-spread.txt | cut -c1-150
true
