#!/usr/bin/env bash
# Folded RMSNorm, first call: precompile both trees, the new GPU tests (subset), 8B decode A/B (new vs HEAD,
# alternating), then more types and the rest of the new tests while time is left.
. "$(dirname "$0")/device-call-preamble.sh"
(cd /tmp/base && PYTHONPATH=/tmp/site:/tmp/base TYPES=IQ2_XXS,Q4_0,Q4_K,Q8_0,IQ4_XS SOFT=0 timeout 150 python3 precompile.py > /tmp/pc-base.txt 2>&1) &
(PYTHONPATH=/tmp/site:$A TYPES=IQ2_XXS,Q4_0,Q4_K,Q8_0,IQ4_XS,Q6_K timeout 170 python3 .devrun/precompile.py > /tmp/pc-new.txt 2>&1) &
rm -rf /tmp/alt; mkdir -p /tmp/alt; cp -r engine bench /tmp/alt/; cp .devrun/precompile.py /tmp/alt/
sed -i 's/^MMVQ_NORM_FOLDS_LONG_ROWS = True/MMVQ_NORM_FOLDS_LONG_ROWS = False/' /tmp/alt/engine/kernels/sources.py; grep -n "^MMVQ_NORM_FOLDS" /tmp/alt/engine/kernels/sources.py
(cd /tmp/alt && PYTHONPATH=/tmp/site:/tmp/alt TYPES=IQ2_XXS SOFT=0 timeout 150 python3 precompile.py > /tmp/pc-alt.txt 2>&1) &
wait; cat /tmp/pc-*.txt; t "precompile"
export PYTHONPATH=/tmp/site:$A
timeout 120 python3 -m pytest -q -x -m gpu -p no:cacheprovider tests/runtime/test_cuda_folded_norm.py tests/kernels/test_mmvq_norm_gpu.py -k "Q8_0 or IQ2_XXS or self_check or bad or tall" > $OUT/gpu-tests-norm-subset.txt 2>&1; t "norm tests rc=$?"; tail -25 $OUT/gpu-tests-norm-subset.txt
mkdir -p /tmp/dec
ab() {  # ab TYPE REP [TREES]
  for tree in ${3:-new base}; do
    [ $(left 560) -gt 25 ] || return
    dir=$A; [ $tree != new ] && dir=/tmp/$tree
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout 60 python3 bench/decode.py --runs 8B:$1 --out /tmp/dec/$tree$1$2 > /tmp/dec-$tree$1$2.log 2>&1); t "decode $tree $1 $2 rc=$?"
    grep "^| 8B\|Error" /tmp/dec-$tree$1$2.log | cut -c1-230
  done
}
for rep in 1 2; do ab Q8_0 $rep; ab IQ2_XXS $rep "new alt base"; done
for ty in Q4_0 Q4_K IQ4_XS; do ab $ty 1; done
for f in /tmp/dec-*.log; do echo "### $f"; cat $f; done > $OUT/decode-ab-folded-norm-logs.txt; cp -r /tmp/dec $OUT/decode-ab
L=$(left 585); [ $L -gt 30 ] && { timeout $L python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_mmvq_norm_gpu.py > $OUT/gpu-tests-norm-all.txt 2>&1; t "all norm kernel tests rc=$?"; tail -8 $OUT/gpu-tests-norm-all.txt; }
true
