#!/usr/bin/env bash
# Eighteenth session (2026-12-07), last call: (1) the decode table of the landed kernels with
# bench/decode.py's new default (each run in a Python process of its own) -> $OUT/table/;
# (2) if time is left, the one-column IQ2_XXS CTA mmvq reserving 4 tile stages (.devrun/exp3 =
# HEAD with MMVQ_SMEM_STAGES = {"IQ2_XXS": 4}: 36 KB, 68 registers, 6 CTAs per SM) against HEAD
# (3 stages: 27.5 KB, 64 registers, 8 CTAs per SM): the 8B decode shapes chain-timed and 8B
# IQ2_XXS decode, one round (calls 6-7 of the session, inline: two more rounds, the GPU tests).
. "$(dirname "$0")/device-call-preamble.sh"
export PYTHONPATH=/tmp/site:$A
mkdir -p $OUT/table
timeout 200 python3 bench/decode.py --out $OUT/table > $OUT/decode-table.txt 2>&1; t "table rc=$?"
grep '^| \|failed' $OUT/decode-table.txt | cut -c1-100
rm -rf /tmp/exp3; mkdir -p /tmp/exp3; cp -r .devrun/exp3/engine .devrun/exp3/bench /tmp/exp3/
for tree in exp3 head; do
  [ $(left 230) -gt 30 ] || break
  dir=$A; [ $tree = exp3 ] && dir=/tmp/exp3
  (cd $dir && TYPES=IQ2_XXS PYTHONPATH=/tmp/site:$dir timeout $(left 240) python3 $A/bench/experiments/2026-12-06-sixth-decode-shapes.py $tree-1) 2>&1 | tail -1
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left 250) python3 bench/decode.py --runs 8B:IQ2_XXS --out /tmp/d-$tree > /tmp/d.txt 2>&1)
  { echo "== $tree 1"; cat /tmp/d.txt; } >> $OUT/decode-ab.txt; grep '^| 8B' /tmp/d.txt | cut -c1-100; t "$tree"
done
t done
