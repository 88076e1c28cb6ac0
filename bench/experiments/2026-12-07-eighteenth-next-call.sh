#!/usr/bin/env bash
# Prepared in the eighteenth session (2026-12-07), not run (no device time left): issue 3's
# one-column mmvq at 65536 x 4096 for the instruction-bound low-bit types with their tile array
# sized for 3 and for 4 stages (MMVQ_SMEM_STAGES; registers per stage count in
# bench/results/experiments-2026-12-07.md, seventeenth session) against this tree, alternating,
# two rounds. The trees are made here from this one (no carry needed but .whl); 4 stages only
# where they fit the 48 KB of static shared memory (IQ3_XXS does not).
# Run: the device tool, carry [".whl", ".devrun"] (.devrun may be empty); LIMIT (default 400).
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-400}
TYPES=Q2_K,IQ2_XS,IQ2_S,IQ1_S,IQ1_M,TQ2_0,TQ1_0
for st in 3 4; do stage_tree /tmp/s$st $st $TYPES; done  # (device-call-preamble.sh)
for r in 1 2; do
  for tree in head s3 s4; do
    [ $(left $((L - 30))) -gt 20 ] || break 2
    dir=$A; [ $tree != head ] && dir=/tmp/$tree
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left $L) python3 bench/matvec.py --types $TYPES --shapes 65536x4096 \
      --ncols 1 --paths mmvq --out /tmp/mv-$tree-$r > /tmp/mv-$tree-$r.txt 2>&1); t "$tree round $r rc=$?"
    cp /tmp/mv-$tree-$r.txt $OUT/; summ "$tree-$r" /tmp/mv-$tree-$r.txt
  done
done
t done
