#!/usr/bin/env bash
# Q4_K and Q5_K dmmv with the unit-float dot (ql_dot_unit4): the dmmv A/B (new vs HEAD, alternating), then the dmmv GPU tests; the
# whole dmmv GPU tests with what is left.
. "$(dirname "$0")/device-call-preamble.sh"
(cd /tmp/base && PYTHONPATH=/tmp/site:/tmp/base TYPES=Q4_K,Q5_K SOFT=0 timeout 150 python3 precompile.py > /tmp/pc-base.txt 2>&1) &
(PYTHONPATH=/tmp/site:$A TYPES=Q4_K,Q5_K timeout 170 python3 .devrun/precompile.py > /tmp/pc-new.txt 2>&1) &
wait; cat /tmp/pc-*.txt; t "precompile"
export PYTHONPATH=/tmp/site:$A
timeout 60 python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_matvec_gpu.py -k "dmmv and (Q4_K or Q5_K)" > $OUT/gpu-tests-dmmv-k.txt 2>&1; t "dmmv K tests rc=$?"; tail -3 $OUT/gpu-tests-dmmv-k.txt
mkdir -p $OUT/ab
for rep in 1 2; do for tree in new base; do
  dir=$A; [ $tree = base ] && dir=/tmp/base
  [ $(left 150) -gt 40 ] || break
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout 45 python3 bench/matvec.py --types Q4_K,Q5_K --paths dmmv --ncols 1 --out $OUT/ab/$tree$rep > /tmp/mv-$tree$rep.txt 2>&1); t "matvec $tree $rep rc=$?"
  summ $tree$rep /tmp/mv-$tree$rep.txt
done; done
for f in /tmp/mv-*.txt; do echo "### $f"; cat $f; done > $OUT/matvec-ab-q45k-logs.txt
true
