#!/usr/bin/env bash
# Thirteenth session, prepared for a later device call (NOT run): the split-KV decode attention and
# its merge in one launch on sm_90 (2026-12-07-thirteenth-cluster-merge.patch, applied to the
# working tree = "new") against HEAD (.devrun/base). The 8 splits of a head are one thread block
# cluster; split 0 merges the partials through distributed shared memory, so a decode step loses
# one launch and one kernel boundary per layer (32 in an 8B). Taking the merge out entirely was
# worth +1.8 % (Q8_0) and +4 % (IQ2_XXS) in the ablation (decode-ablation-...-2026-12-06.json);
# the merge done by each head's last split through a global counter lost 1-2 % (fifth session).
# First the GPU tests of the changed code (self-checks, CPU vs CUDA logits), then 8B Q8_0,
# IQ2_XXS and Q4_K decode, alternating new / base, two rounds. H100 (the targets' card).
# The trees, from the commit that added this script:
#   rm -rf .devrun/base; mkdir -p .devrun/base; git archive HEAD engine bench | tar -x -C .devrun/base
#   git apply bench/experiments/2026-12-07-thirteenth-cluster-merge.patch
# Run: the device tool, carry [".whl", ".devrun"], about 300 s.
. "$(dirname "$0")/device-call-preamble.sh"
(PYTHONPATH=/tmp/site:$A timeout 200 python3 -m pytest -q -m gpu -p no:cacheprovider tests/runtime/test_cuda_fused_ops.py \
  tests/runtime/test_cuda_ops_compile.py tests/runtime/test_generate_synth.py > $OUT/gpu-tests-new.txt 2>&1); t "tests rc=$?"; tail -2 $OUT/gpu-tests-new.txt
for rep in 1 2; do
  for tree in new base; do
    [ $(left 580) -gt 60 ] || break
    dir=/tmp/$tree; [ $tree = new ] && dir=$A
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left 580) python3 bench/decode.py --runs 8B:Q8_0,8B:IQ2_XXS,8B:Q4_K \
      --out $OUT/decode-$tree$rep > $OUT/decode-$tree$rep.txt 2>&1); t "decode $tree $rep rc=$?"
    grep '^| 8B' $OUT/decode-$tree$rep.txt | cut -c1-75
  done
done
grep -ho "cluster merge: [^,]*" $OUT/decode-new1.txt | sort -u
t done
true
