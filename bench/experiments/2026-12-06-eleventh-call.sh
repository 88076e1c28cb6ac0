#!/usr/bin/env bash
# Eleventh session: whole-chunk float dots (dot_f32) for the kv16 types' 1-column dmmv (IQ4_NL,
# IQ4_XS, MXFP4; the working tree, "new") against HEAD (.devrun/base) and two variants of it:
# .devrun/half (bytes to floats through f16x2 halves: fewer logic-pipe ops, same issue count) and
# .devrun/alt (new, with x kept in registers: the three added to DMMV_X_IN_REGISTERS). GPU tests of
# the changed paths on new, half and alt, then the A/B, alternating, ROUNDS rounds; with time left
# in a round, MXFP4 on unit floats (.devrun/unit: no subtract, looser precision) and the three
# types' 1-column mmvq forced onto the CTA and the warp kernel (code unchanged).
# PHASE=table (a second call): the full matvec table of the new tree (an H100 only) and the
# kernel GPU tests with the time left. Not run that session (no device machine); run 2026-12-07
# (bench/results/experiments-2026-12-07.md).
# The trees, from the commit that added this script (P = bench/experiments/2026-12-06-eleventh-):
#   rm -rf .devrun/{base,half,alt,unit}; mkdir -p .devrun/base; git archive HEAD engine bench | tar -x -C .devrun/base
#   git apply ${P}kv16-dot-f32.patch    # the working tree = "new"
#   for v in half:kv16-half-floats alt:kv16-x-in-registers unit:mxfp4-unit-floats; do
#     mkdir -p .devrun/${v%%:*}; cp -r engine bench .devrun/${v%%:*}/; (cd .devrun/${v%%:*} && patch -p1 < ../../${P}${v#*:}.patch); done
. "$(dirname "$0")/device-call-preamble.sh"
if [ "${PHASE:-ab}" = ab ]; then
for v in half alt unit; do rm -rf /tmp/$v; mkdir -p /tmp/$v; cp -r .devrun/$v/engine .devrun/$v/bench tests pyproject.toml /tmp/$v/; done
T=IQ4_NL,IQ4_XS,MXFP4
# dmmv TREE REP TYPES: 1-column dmmv of TYPES on /tmp/TREE ($A for new), records under $OUT/ab, one line each
dmmv() { local dir=/tmp/$1; [ $1 = new ] && dir=$A
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout 40 python3 bench/matvec.py --types $3 --paths dmmv --ncols 1 --out $OUT/ab/dmmv-$1$2 > /tmp/dm-$1$2.txt 2>&1); t "dmmv $1 $2 rc=$?"
  summ $1$2 /tmp/dm-$1$2.txt; }
pc() { (cd $1 && PYTHONPATH=/tmp/site:$1 TYPES=$T SOFT=0 timeout 150 python3 $A/bench/experiments/precompile.py) > /tmp/pc-$(basename $1).txt 2>&1; }
for d in /tmp/base /tmp/half $A; do pc $d & done
wait; cat /tmp/pc-*.txt; t "precompile"
(pc /tmp/alt; pc /tmp/unit) &  # the extras' trees, in the background
K="dmmv and (IQ4_NL or IQ4_XS or MXFP4)"
gputests() { (cd $1 && PYTHONPATH=/tmp/site:$1 timeout 100 python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_matvec_gpu.py -k "$K" > $OUT/gpu-tests-$2.txt 2>&1); t "tests $2 rc=$?"; tail -2 $OUT/gpu-tests-$2.txt; }
gputests $A new
mkdir -p $OUT/ab
for rep in ${ROUNDS:-1 2}; do
  for tree in new base half; do
    [ $(left ${AB_BUDGET:-300}) -gt 20 ] || break
    dmmv $tree $rep $T
  done
  [ $rep = 1 ] && [ $(left ${AB_BUDGET:-300}) -gt 60 ] && gputests /tmp/half half
  [ $(left ${AB_BUDGET:-300}) -gt 50 ] || continue  # extras: x in registers, MXFP4 on unit floats, the mmvq layouts (unchanged code), forced
  dmmv alt $rep $T
  dmmv unit $rep MXFP4
  for layout in ctas warps; do
    [ $(left ${AB_BUDGET:-300}) -gt 20 ] || break
    PYTHONPATH=/tmp/site:$A timeout 30 python3 bench/matvec.py --types $T --paths mmvq --ncols 1 --mmvq-layout $layout --out $OUT/ab/mmvq-$layout$rep > /tmp/mq-$layout$rep.txt 2>&1; t "mmvq $layout $rep rc=$?"
    summ $layout$rep /tmp/mq-$layout$rep.txt
  done
done
for f in /tmp/dm-*.txt /tmp/mq-*.txt; do echo "### $f"; cat $f; done > $OUT/matvec-ab-eleventh-logs.txt
t "done (A/B)"; exit 0
fi
full_table_and_tests 250 540 590
t done
true
