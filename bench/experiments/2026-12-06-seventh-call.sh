#!/usr/bin/env bash
# (run with the X4 patch applied in the alt tree; .devrun/ was the git-ignored scratch folder of the call)
# X4 layout, all in one call, by priority: chain-timed shapes + 8B IQ2_XXS decode A/B (alt = X4 tree, base = HEAD),
# layout GPU tests; then on alt: decode table, IQ2_XXS mat-vec rows (layout / GGUF order), GPU suite with what is left.
. "$(dirname "$0")/device-call-preamble.sh"
(cd /tmp/base && PYTHONPATH=/tmp/site:/tmp/base TYPES=IQ2_XXS SOFT=0 timeout 150 python3 precompile.py > /tmp/pc-base.txt 2>&1) &
(PYTHONPATH=/tmp/site:$A TYPES=IQ2_XXS,Q4_0,Q4_K,Q8_0,IQ4_XS SOFT=0 timeout 170 python3 .devrun/precompile.py > /tmp/pc-alt.txt 2>&1) &
(PYTHONPATH=/tmp/site:$A timeout 200 python3 bench/experiments/2026-12-06-seventh-x4-shapes.py > /tmp/x4.txt 2>&1; echo "x4 rc=$?" >> /tmp/x4.txt) &
wait; cat /tmp/pc-*.txt; tail -60 /tmp/x4.txt; t "precompile + x4 shapes"
mkdir -p /tmp/dec
for rep in 1 2; do for tree in alt base; do
  dir=$A; [ $tree = base ] && dir=/tmp/base
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout 60 python3 bench/decode.py --runs 8B:IQ2_XXS --out /tmp/dec/$tree$rep > /tmp/dec-$tree$rep.log 2>&1); t "decode $tree $rep rc=$?"
  grep "^| 8B\|Error" /tmp/dec-$tree$rep.log | cut -c1-120
done; done
for f in /tmp/dec-*.log; do echo "### $f"; cat $f; done > $OUT/decode-ab-logs.txt; cp -r /tmp/dec $OUT/decode-ab
export PYTHONPATH=/tmp/site:$A
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_device_layouts_gpu.py tests/kernels/test_mmvq_long_rows_gpu.py -k IQ2_XXS > $OUT/gpu-tests-layout.txt 2>&1; t "layout tests rc=$?"; tail -3 $OUT/gpu-tests-layout.txt
[ $(left 560) -gt 60 ] && { timeout 70 python3 bench/decode.py --out $OUT --tag seventh > $OUT/decode-log.txt 2>&1; t "decode table rc=$?"; grep "^| " $OUT/decode-log.txt | cut -c1-150; }
[ $(left 560) -gt 60 ] && { timeout 50 python3 bench/matvec.py --types IQ2_XXS --ncols 1 --paths mmvq,dmmv --out $OUT/mv-layout > /tmp/mv1.txt 2>&1; t "matvec layout rc=$?";
  timeout 50 python3 bench/matvec.py --types IQ2_XXS --ncols 1 --paths mmvq,dmmv --gguf-order --out $OUT/mv-gguf > /tmp/mv2.txt 2>&1; t "matvec gguf rc=$?";
  grep -h '^{' /tmp/mv1.txt /tmp/mv2.txt | python3 -c "
import sys, json
for l in sys.stdin:
    r = json.loads(l); print(r['layout'], r['path'], r['rows'], r['cols'], r['ncols'], r['us'], r['pct_of_copy'], r['correct'], r['kernel'])"; }
L=$(left 590); [ $L -gt 30 ] && { timeout $L python3 -m pytest -q -m gpu -p no:cacheprovider tests/runtime tests/kernels > $OUT/gpu-tests.txt 2>&1; t "gpu suite rc=$?"; tail -4 $OUT/gpu-tests.txt; }
cp /tmp/x4.txt $OUT/ 2>/dev/null; true
