#!/usr/bin/env bash
# Fourteenth session, first call (one machine, everything in one call). The working tree is HEAD
# 3aa10b1 + 2026-12-07-thirteenth-cluster-merge.patch + the attention methods of CudaOps moved into
# engine/backends/cuda_attend.py ("new"; it changes only the attention
# launch of the runtime, so its kernels/ and bench/matvec.py are HEAD's); .devrun/base = HEAD.
#  1. the kernel GPU suite (HEAD's kernels; first run of 4cea3e3's grid assertions);
#  2. the 1-column mmvq of TQ1_0 / TQ2_0 / IQ1_S at 65536x4096, twice (the thirteenth table had
#     TQ1_0 at 185 us against 63 us the day before with unchanged SASS), with clock fields;
#  3. the cluster-merge GPU tests, then 8B decode new vs base alternating, up to three rounds.
# Run: the device tool, carry [".whl", ".devrun"], about 420 s.
. "$(dirname "$0")/device-call-preamble.sh"
export PYTHONPATH=/tmp/site:$A
timeout 170 python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/ > $OUT/gpu-tests-kernels-head.txt 2>&1; t "kernel tests rc=$?"; tail -3 $OUT/gpu-tests-kernels-head.txt
for rep in 1 2; do
  timeout 60 python3 bench/matvec.py --types TQ1_0,TQ2_0,IQ1_S --paths mmvq,mmvq-soft --shapes 65536x4096 --out /tmp/tq$rep > $OUT/tq1-mmvq-$rep.txt 2>&1; t "tq $rep rc=$?"
  summ r$rep $OUT/tq1-mmvq-$rep.txt
done
grep -h '^{' $OUT/tq1-mmvq-1.txt | head -1 | cut -c1-600
timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests/runtime/test_cuda_fused_ops.py \
  tests/runtime/test_cuda_ops_compile.py tests/runtime/test_generate_synth.py > $OUT/gpu-tests-cluster-merge.txt 2>&1; t "tests rc=$?"; tail -2 $OUT/gpu-tests-cluster-merge.txt
for rep in 1 2 3; do
  for tree in new base; do
    [ $(left 560) -gt 45 ] || break
    dir=/tmp/$tree; [ $tree = new ] && dir=$A
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left 570) python3 bench/decode.py --runs 8B:Q8_0,8B:IQ2_XXS,8B:Q4_K,8B:Q4_0 \
      --out /tmp/decode-$tree$rep > /tmp/decode-$tree$rep.txt 2>&1); t "decode $tree $rep rc=$?"
    grep '^| 8B' /tmp/decode-$tree$rep.txt | cut -c1-75
    cat /tmp/decode-$tree$rep.txt >> $OUT/decode-ab-logs.txt
  done
done
grep -ho "cluster merge: [^,]*" $OUT/decode-ab-logs.txt | sort | uniq -c
t done
true
