#!/usr/bin/env bash
# Prepared in the seventeenth session (2026-12-07), not run there (no device time left): the call
# that confirms the landed tree (MMVQ_SMEM_STAGES = {"IQ2_XXS": 3}, 79ae852), whose exact
# combination was never decode-timed (bench/results/experiments-2026-12-07.md, seventeenth section).
#  1. the decode table (bench/decode.py's default runs) on this tree -> $OUT/table/ (its JSON and md);
#  2. 8B IQ2_XXS tg128, this tree and the tree before the change (.devrun/base = b033f39)
#     alternating, two rounds;
#  3. the GPU tests of the IQ2_XXS kernels and the runtime, with what is left.
# Run: the device tool, carry [".whl", ".devrun"] (.devrun/base: git archive b033f39 engine bench);
# LIMIT (default 540) = the seconds to plan for.
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-540}
export PYTHONPATH=/tmp/site:$A
mkdir -p $OUT/table
timeout $(left $((L - 150))) python3 bench/decode.py --out $OUT/table > $OUT/decode-table.txt 2>&1; t "decode table rc=$?"
grep '^| ' $OUT/decode-table.txt | cut -c1-80
for r in 1 2; do
  for tree in base new; do
    [ $(left $((L - 60))) -gt 20 ] || break 2
    dir=$A; [ $tree = base ] && dir=/tmp/base
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left $L) python3 bench/decode.py --runs 8B:IQ2_XXS --out /tmp/ab-$tree-$r) \
      > /tmp/ab.txt 2>&1; t "decode $tree round $r rc=$?"
    { echo "== $tree round $r"; cat /tmp/ab.txt; } >> $OUT/decode-ab-logs.txt; grep '^| 8B' /tmp/ab.txt | cut -c1-75
  done
done
T=$(left $L); [ $T -gt 40 ] && timeout $T python3 -m pytest -q -m gpu -p no:cacheprovider -k IQ2_XXS \
  tests/kernels/test_matvec_gpu.py tests/kernels/test_matvec_persistent_gpu.py > $OUT/gpu-tests-kernels.txt 2>&1
t "kernel tests rc=$?"; tail -3 $OUT/gpu-tests-kernels.txt | cut -c1-200
T=$(left $L); [ $T -gt 40 ] && timeout $T python3 -m pytest -q -m gpu -p no:cacheprovider tests/runtime \
  > $OUT/gpu-tests-runtime.txt 2>&1
t "runtime tests rc=$?"; tail -3 $OUT/gpu-tests-runtime.txt | cut -c1-200
t done
true
