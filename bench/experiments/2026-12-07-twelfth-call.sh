#!/usr/bin/env bash
# Twelfth session, prepared for the next device call: ql_bytes_to_f32x4 on f16x2 halves for every
# type (2026-12-07-twelfth-bytes-to-floats-halves.patch; the working tree, "new") against HEAD
# (.devrun/base). The same step measured +5 points for the kv16 types' whole-chunk dots (landed
# 2026-12-07). Bit-identical results: the GPU tests of the changed paths (dmmv, dequantize-to-f16,
# get_rows) run first. Then the 1- and 8-column dmmv of every type, alternating new / base, and
# with the time left the 8B pp512 (dequantize + GEMM) of both trees through bench/decode.py with
# --kernel dmmv. An H100 or an H200 will do (an A/B); NOT run yet.
# The trees, from the commit that added this script:
#   rm -rf .devrun/base; mkdir -p .devrun/base; git archive HEAD engine bench | tar -x -C .devrun/base
#   git apply bench/experiments/2026-12-07-twelfth-bytes-to-floats-halves.patch   # the working tree = "new"
# Run: the device tool, carry [".whl", ".devrun"], about 330 s.
# SASS before / after (NVRTC 13, sm_90, the 1-column dmmv's main loop; "logic" = LOP3/PRMT/SHF/
# ISETP/IADD3/LEA/SEL..., "fma" = FFMA/FADD/FMUL/IMAD/HADD2/IDP...): same instruction counts within
# 1 % (Q5_0 -4 %); logic ops Q4_0 617 -> 499, Q4_1 506 -> 402, Q5_0 715 -> 632, Q5_1 587 -> 493, Q8_0 415 ->
# 386, Q2_K 702 -> 575, Q3_K 1041 -> 962, Q6_K 609 -> 552, TQ1_0 1030 -> 933, TQ2_0 684 -> 557,
# IQ2_* -11..-14 %, IQ3_* -4 %, IQ4_NL's plain kernel 920 -> 818; fma-pipe ops up by about as
# many. Unchanged: Q4_K, Q5_K, IQ4_XS, MXFP4 and IQ4_NL's x-in-registers kernel (whole-chunk
# dots), IQ1_* (no byte-to-float step).
. "$(dirname "$0")/device-call-preamble.sh"
pc() { (cd $1 && PYTHONPATH=/tmp/site:$1 SOFT=0 timeout 200 python3 $A/bench/experiments/precompile.py) > /tmp/pc-$(basename $1).txt 2>&1; }
pc /tmp/base & pc $A & wait; cat /tmp/pc-*.txt; t "precompile"
(PYTHONPATH=/tmp/site:$A timeout 120 python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_matvec_gpu.py \
  -k "dmmv or dequantize_f16 or get_rows" > $OUT/gpu-tests-new.txt 2>&1); t "tests rc=$?"; tail -2 $OUT/gpu-tests-new.txt
mkdir -p $OUT/ab
# dmmv TREE REP: 1- and 8-column dmmv of every type on TREE (new = $A), records under $OUT/ab
dmmv() { local dir=/tmp/$1; [ $1 = new ] && dir=$A
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout 60 python3 bench/matvec.py --paths dmmv --ncols 1,8 --out $OUT/ab/dmmv-$1$2 > /tmp/dm-$1$2.txt 2>&1); t "dmmv $1 $2 rc=$?"
  summ $1$2 /tmp/dm-$1$2.txt; }
for rep in 1 2; do
  for tree in new base; do
    [ $(left 260) -gt 40 ] || break
    dmmv $tree $rep
  done
done
for tree in new base; do
  [ $(left 320) -gt 40 ] || break
  dir=/tmp/$tree; [ $tree = new ] && dir=$A
  (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left 320) python3 bench/decode.py --runs 8B:Q4_K,8B:Q4_0 --kernel dmmv --out $OUT/decode-$tree > /tmp/dec-$tree.txt 2>&1); t "decode $tree rc=$?"
  grep '^|' /tmp/dec-$tree.txt
done
for f in /tmp/dm-*.txt /tmp/dec-*.txt; do echo "### $f"; cat $f; done > $OUT/twelfth-logs.txt
t done
true
