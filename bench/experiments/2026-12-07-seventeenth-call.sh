#!/usr/bin/env bash
# Seventeenth session (2026-12-07), first device call: a deeper cp.async ring for the long-rows
# one-column mmvq (ql_mmvql_<T>_n1; the 8B down projection of IQ2_XXS, 4096 x 14336, R = 3: a CTA
# walks one row group of 3.5 tiles, two stages before).
#   base = HEAD (.devrun/base); new = this tree (MMVQ_LONG_ROWS_STAGES = 5: all four tiles of such
#   a CTA requested before the PDL wait); r4 = new with R = 4;
#   d3 = new + MMVQ_STAGES = {"IQ2_XXS": 3} (the default one-column kernel with three stages).
#  1. chain-timed IQ2_XXS one-column mmvq at the 8B decode shapes in every tree;
#  2. decode tg128 (8B IQ2_XXS) of every tree alternating, two rounds;
#  3. GPU tests: the long-rows kernel (incl. CTAs walking several row groups), many row groups
#     per CTA, CPU vs CUDA logits for IQ2_XXS mmvq (with what is left, up to 60 s past LIMIT).
# Run: the device tool, carry [".whl", ".devrun"]; LIMIT (default 480) = the seconds to plan for;
# TREES (default "base new r4 d3") = the trees to time.
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-480}
mk() {  # mk NAME SED-EXPRESSION: a copy of this tree with engine/kernels/sources.py edited
  rm -rf /tmp/$1; mkdir -p /tmp/$1; cp -r $A/engine $A/bench /tmp/$1/
  sed -i "$2" /tmp/$1/engine/kernels/sources.py; grep -n "^MMVQ_LONG_ROWS\|^MMVQ_STAGES" /tmp/$1/engine/kernels/sources.py
}
mk r4 's/^MMVQ_LONG_ROWS = {"IQ2_XXS": 3}/MMVQ_LONG_ROWS = {"IQ2_XXS": 4}/'
mk d3 's/^MMVQ_STAGES: dict\[str, int\] = {}/MMVQ_STAGES: dict[str, int] = {"IQ2_XXS": 3}/'
export PYTHONPATH=/tmp/site:$A
dir_of() { case $1 in base) echo /tmp/base;; new) echo $A;; *) echo /tmp/$1;; esac; }
TREES=${TREES:-"base new r4 d3"}
for tree in $TREES; do
  d=$(dir_of $tree)
  (cd $d && PYTHONPATH=/tmp/site:$d TYPES=IQ2_XXS timeout 60 python3 $A/bench/experiments/2026-12-06-sixth-decode-shapes.py $tree) 2>&1 | tail -1
  t "shapes $tree"
done
for r in 1 2; do
  for tree in $TREES; do
    [ $(left $L) -gt 30 ] || break 2
    d=$(dir_of $tree)
    (cd $d && PYTHONPATH=/tmp/site:$d timeout $(left $L) python3 bench/decode.py --runs 8B:IQ2_XXS --out /tmp/ab-$tree-$r) \
      > /tmp/ab.txt 2>&1; t "decode $tree round $r rc=$?"
    { echo "== $tree round $r"; cat /tmp/ab.txt; } >> $OUT/decode-ab-logs.txt; grep '^| 8B' /tmp/ab.txt | cut -c1-75
  done
done
T=$(left $((L + 60))); [ $T -gt 40 ] && timeout $T python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_mmvq_long_rows_gpu.py \
  "tests/kernels/test_matvec_persistent_gpu.py::test_many_row_groups_per_cta[IQ2_XXS]" \
  "tests/runtime/test_backend_cuda.py::test_cuda_matches_cpu_for_every_type_and_path[IQ2_XXS-mmvq]" > $OUT/gpu-tests.txt 2>&1
t "tests rc=$?"; tail -3 $OUT/gpu-tests.txt | cut -c1-200
t done
true
