#!/usr/bin/env bash
# Thirteenth session: everything in one call (a warm machine is given back 30 s after a call).
# The twelfth session's prepared change (2026-12-07-twelfth-bytes-to-floats-halves.patch, applied
# to the working tree = "new") against HEAD (.devrun/base): the GPU tests of the changed paths, the
# 1- and 8-column dmmv of every type in two alternating rounds (as 2026-12-07-twelfth-call.sh);
# then on the working tree the full matvec table (H100 only), bench/decode.py (mmvq, every default
# run), the kernel GPU suite, and with the time left the 8B pp512 through dmmv of both trees.
# Trees: rm -rf .devrun/base; mkdir -p .devrun/base; git archive HEAD engine bench | tar -x -C .devrun/base
# Run: the device tool, carry [".whl", ".devrun"], timeout 600 (BUDGET=N for a shorter call; default 590 s).
. "$(dirname "$0")/device-call-preamble.sh"
B=${BUDGET:-590}  # seconds this call may take (the guards below keep each step inside it)
pc() { (cd $1 && PYTHONPATH=/tmp/site:$1 SOFT=$2 timeout 200 python3 $A/bench/experiments/precompile.py) > /tmp/pc-$(basename $1).txt 2>&1; }
pc /tmp/base 0 & pc $A 1 & wait; cat /tmp/pc-*.txt; t "precompile"
(PYTHONPATH=/tmp/site:$A timeout 120 python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_matvec_gpu.py \
  -k "dmmv or dequantize_f16 or get_rows" > $OUT/gpu-tests-new.txt 2>&1); t "tests rc=$?"; tail -2 $OUT/gpu-tests-new.txt
mkdir -p $OUT/ab
dmmv() { local dir=/tmp/$1; [ $1 = new ] && dir=$A
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout 60 python3 bench/matvec.py --paths dmmv --ncols 1,8 --out $OUT/ab/dmmv-$1$2 > /tmp/dm-$1$2.txt 2>&1); t "dmmv $1 $2 rc=$?"; }
for rep in 1 2; do for tree in new base; do [ $(left $((B - 260))) -gt 50 ] && dmmv $tree $rep; done; done
for f in /tmp/dm-*.txt; do echo "### $f"; cat $f; done > $OUT/twelfth-logs.txt
export PYTHONPATH=/tmp/site:$A
if nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H100; then
  mkdir -p $OUT/table
  timeout $(left $((B - 150))) python3 bench/matvec.py --out $OUT/table > $OUT/table-log.txt 2>&1; t "table rc=$?"; grep -v '^{' $OUT/table-log.txt | tail -2
fi
[ $(left $((B - 90))) -gt 35 ] && { timeout $(left $((B - 90))) python3 bench/decode.py --out $OUT/decode > $OUT/decode-log.txt 2>&1; t "decode rc=$?"; grep '^|' $OUT/decode-log.txt | cut -c1-90; }
[ $(left $((B - 40))) -gt 25 ] && { timeout $(left $((B - 40))) python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/ > $OUT/gpu-tests-kernels.txt 2>&1; t "kernel tests rc=$?"; tail -2 $OUT/gpu-tests-kernels.txt; }
for tree in new base; do
  [ $(left $((B - 2))) -gt 30 ] || break
  dir=/tmp/$tree; [ $tree = new ] && dir=$A
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left $((B - 2))) python3 bench/decode.py --runs 8B:Q4_K --kernel dmmv --out $OUT/pp-$tree > $OUT/pp-$tree.txt 2>&1); t "pp512 dmmv $tree rc=$?"
done
t done
true
