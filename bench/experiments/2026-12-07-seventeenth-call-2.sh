#!/usr/bin/env bash
# Seventeenth session (2026-12-07), second device call (short: under 300 s of device time left).
# The first call's d3 tree (the default one-column IQ2_XXS mmvq with three cp.async stages) ran the
# O and QKV shapes 12-19 % faster chain-timed, although a CTA there has one tile to stage. Is it
# the shared memory it reserves (fewer CTAs per SM)? pad = this tree's two-stage kernels with the
# tile array sized for three stages (one-column, R = 8, IQ2_XXS tiles of 1056 bytes only; a first
# version without the last condition did not compile: other types then passed 48 KB).
#  1. chain-timed IQ2_XXS one-column mmvq at the 8B decode shapes in base, d3, pad;
#  2. decode tg128 (8B IQ2_XXS) of the three trees alternating, three rounds.
# Run: the device tool, carry [".whl", ".devrun"]; LIMIT (default 150) = the seconds to plan for.
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-150}
rm -rf /tmp/d3 /tmp/pad; mkdir -p /tmp/d3 /tmp/pad; cp -r $A/engine $A/bench /tmp/d3/; cp -r $A/engine $A/bench /tmp/pad/
sed -i 's/^MMVQ_STAGES: dict\[str, int\] = {}/MMVQ_STAGES: dict[str, int] = {"IQ2_XXS": 3}/' /tmp/d3/engine/kernels/sources.py
sed -i 's/u8 tiles\[STAGES \* R \* Tile::BYTES + 16\];/u8 tiles[(STAGES == 2 \&\& NCOLS == 1 \&\& R == 8 \&\& Tile::BYTES == 1056 ? 3 : STAGES) * R * Tile::BYTES + 16];/' \
  /tmp/pad/engine/kernels/matvec_tiles.cuh
grep -n "^MMVQ_STAGES" /tmp/d3/engine/kernels/sources.py; grep -n "u8 tiles\[" /tmp/pad/engine/kernels/matvec_tiles.cuh
dir_of() { case $1 in base) echo /tmp/base;; *) echo /tmp/$1;; esac; }
TREES=${TREES:-"base d3 pad"}
for tree in $TREES; do
  d=$(dir_of $tree)
  (cd $d && PYTHONPATH=/tmp/site:$d TYPES=IQ2_XXS timeout 60 python3 $A/bench/experiments/2026-12-06-sixth-decode-shapes.py $tree) 2>&1 | tail -1
  t "shapes $tree"
done
for r in 1 2 3; do
  for tree in $TREES; do
    [ $(left $L) -gt 12 ] || break 2
    d=$(dir_of $tree)
    (cd $d && PYTHONPATH=/tmp/site:$d timeout $(left $L) python3 bench/decode.py --runs 8B:IQ2_XXS --out /tmp/ab-$tree-$r) \
      > /tmp/ab.txt 2>&1; t "decode $tree round $r rc=$?"
    { echo "== $tree round $r"; cat /tmp/ab.txt; } >> $OUT/decode-ab-logs.txt; grep '^| 8B' /tmp/ab.txt | cut -c1-75
  done
done
t done
true
