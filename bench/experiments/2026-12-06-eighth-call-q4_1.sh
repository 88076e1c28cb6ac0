#!/usr/bin/env bash
# Q4_1 dmmv with the offset once per group: GPU tests of Q4_1, then the dmmv A/B (new vs HEAD, alternating), then the
# whole dmmv GPU tests with what is left.
. "$(dirname "$0")/device-call-preamble.sh"
(cd /tmp/base && PYTHONPATH=/tmp/site:/tmp/base TYPES=Q4_1 SOFT=0 timeout 150 python3 precompile.py > /tmp/pc-base.txt 2>&1) &
(PYTHONPATH=/tmp/site:$A TYPES=Q4_1 timeout 170 python3 .devrun/precompile.py > /tmp/pc-new.txt 2>&1) &
wait; cat /tmp/pc-*.txt; t "precompile"
export PYTHONPATH=/tmp/site:$A
timeout 120 python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_matvec_gpu.py tests/kernels/test_matvec_persistent_gpu.py -k Q4_1 > $OUT/gpu-tests-q4_1.txt 2>&1; t "Q4_1 tests rc=$?"; tail -4 $OUT/gpu-tests-q4_1.txt
mkdir -p $OUT/ab
for rep in 1 2; do for tree in new base; do
  dir=$A; [ $tree = base ] && dir=/tmp/base
  [ $(left 540) -gt 40 ] || break
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout 90 python3 bench/matvec.py --types Q4_1 --paths dmmv --ncols 1,8 --out $OUT/ab/$tree$rep > /tmp/mv-$tree$rep.txt 2>&1); t "matvec $tree $rep rc=$?"
  grep -h '^{' /tmp/mv-$tree$rep.txt | python3 -c "
import sys, json
for l in sys.stdin:
    r = json.loads(l); print('$tree$rep', r['path'], r['rows'], r['cols'], r['ncols'], r['us'], r['pct_of_copy'], r['correct'])"
done; done
for f in /tmp/mv-*.txt; do echo "### $f"; cat $f; done > $OUT/matvec-ab-q4_1-logs.txt
L=$(left 580); [ $L -gt 30 ] && { timeout $L python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_matvec_gpu.py -k "dmmv" > $OUT/gpu-tests-dmmv.txt 2>&1; t "dmmv tests rc=$?"; tail -3 $OUT/gpu-tests-dmmv.txt; }
true
