#!/usr/bin/env bash
# Tenth session: Q3_K/Q6_K realigned activations, the unit-float dot without the exponent bit (Q4_K/Q5_K dmmv) and x >> 16 on the
# multiply pipe (IQ4_XS/MXFP4 mmvq): GPU tests of the changed types, then A/B new vs HEAD
# (.devrun/base), alternating, three rounds; then the full matvec table of the new tree and the
# kernel GPU tests with the time left. For a short budget: AB_ONLY=1 stops after the A/B,
# ROUNDS="1 2" sets the rounds, AB_BUDGET=S the seconds the A/B may start rounds within.
. "$(dirname "$0")/device-call-preamble.sh"
T=Q3_K,Q4_K,Q5_K,Q6_K,IQ4_XS,MXFP4,IQ4_NL
(cd /tmp/base && PYTHONPATH=/tmp/site:/tmp/base TYPES=$T SOFT=0 timeout 150 python3 precompile.py > /tmp/pc-base.txt 2>&1) &
(PYTHONPATH=/tmp/site:$A TYPES=$T timeout 170 python3 .devrun/precompile.py > /tmp/pc-new.txt 2>&1) &
wait; cat /tmp/pc-*.txt; t "precompile"
export PYTHONPATH=/tmp/site:$A
timeout 90 python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_matvec_gpu.py tests/kernels/test_mmvq_warps_gpu.py -k "Q3_K or Q4_K or Q5_K or Q6_K or IQ4_XS or MXFP4 or IQ4_NL" > $OUT/gpu-tests-changed-types.txt 2>&1; t "tests rc=$?"; tail -3 $OUT/gpu-tests-changed-types.txt
mkdir -p $OUT/ab
for rep in ${ROUNDS:-1 2 3}; do for tree in new base; do
  dir=$A; [ $tree = base ] && dir=/tmp/base
  [ $(left ${AB_BUDGET:-330}) -gt 30 ] || break
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout 40 python3 bench/matvec.py --types IQ4_XS,MXFP4,IQ4_NL,Q6_K,Q3_K --paths mmvq --ncols 1 --out $OUT/ab/mmvq-$tree$rep > /tmp/mq-$tree$rep.txt 2>&1); t "mmvq $tree $rep rc=$?"
  summ $tree$rep /tmp/mq-$tree$rep.txt
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout 40 python3 bench/matvec.py --types Q4_K,Q5_K --paths dmmv --out $OUT/ab/dmmv-$tree$rep > /tmp/dm-$tree$rep.txt 2>&1); t "dmmv $tree $rep rc=$?"
  summ $tree$rep /tmp/dm-$tree$rep.txt
done; done
for f in /tmp/mq-*.txt /tmp/dm-*.txt; do echo "### $f"; cat $f; done > $OUT/matvec-ab-tenth-logs.txt
[ "${AB_ONLY:-0}" = 1 ] && { t "done (AB_ONLY)"; exit 0; }
timeout $(left 300) python3 .devrun/precompile.py > /tmp/pc-all.txt 2>&1; t "precompile all rc=$?"; tail -2 /tmp/pc-all.txt
if nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H100; then  # the targets' card: the full table
  mkdir -p $OUT/table
  timeout $(left 380) python3 bench/matvec.py --out $OUT/table > /tmp/table.txt 2>&1; t "table rc=$?"; grep -v '^{' /tmp/table.txt | tail -3
  cp /tmp/table.txt $OUT/table-log.txt
fi
L=$(left 430); [ $L -gt 20 ] && { timeout $L python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/ > $OUT/gpu-tests-kernels.txt 2>&1; t "kernel tests rc=$?"; tail -3 $OUT/gpu-tests-kernels.txt; }
t done
true
