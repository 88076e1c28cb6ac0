#!/usr/bin/env bash
# Sixteenth session (2026-12-07), third device call: the balanced persistent grid.
#   bal  = this tree: KernelSet._grid launches sources.balanced_grid(row groups, resident CTAs)
#          CTAs: as many rounds as a full device, the row groups spread evenly over them (65536 x
#          4096 at R = 8 on 792 slots: 745 CTAs of 10 or 11 groups instead of 792 with 272 doing
#          an 11th while the rest idle). Kernels unchanged: only the grid of tall matrices.
#   base = HEAD (.devrun/base).
# Single-launch mat-vec timings include that ragged last round; chained ones overlap it with
# the next launch (IQ4_XS 65536 x 4096: 89-90 % single, 94-96 % chained).
#  1. the kernel cache for every type (shared by both trees: same sources);
#  2. one-column mmvq + dmmv at 65536x4096 and 14336x4096, every quantized type, base / bal;
#  3. decode tg128 base / bal alternating (8B IQ2_XXS, Q8_0, 1B Q4_K), two rounds;
#  4. the warp-kernel and persistent-grid GPU tests on bal;
#  5. with what is left, mmvq at 65536x4096 again (a second round).
# Run: the device tool, carry [".whl", ".devrun"]; LIMIT (default 540) = the seconds to plan for.
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-540}
rm -rf /tmp/bal; mkdir -p /tmp/bal; cp -r .devrun/bal/engine .devrun/bal/bench /tmp/bal/
export PYTHONPATH=/tmp/site:$A
timeout 150 python3 bench/experiments/precompile.py > $OUT/precompile.txt 2>&1; t "precompile rc=$?"; tail -1 $OUT/precompile.txt
Q=Q4_0,Q4_1,Q5_0,Q5_1,Q8_0,Q2_K,Q3_K,Q4_K,Q5_K,Q6_K,IQ1_S,IQ1_M,IQ2_XXS,IQ2_XS,IQ2_S,IQ3_XXS,IQ3_S,IQ4_NL,IQ4_XS,TQ1_0,TQ2_0,MXFP4
mvb() {  # mvb TREE TAG SHAPES PATHS
  (cd /tmp/$1 && PYTHONPATH=/tmp/site:/tmp/$1 timeout $(left $((L - ${5:-150}))) python3 bench/matvec.py --types $Q --shapes $3 \
    --ncols 1 --paths $4 --reps 15 --out /tmp/mv-$2) > $OUT/matvec-$2.txt 2>&1; t "matvec $2 rc=$?"
}
mvb base base-1 65536x4096,14336x4096 mmvq,dmmv
mvb bal bal-1 65536x4096,14336x4096 mmvq,dmmv
python3 - $OUT <<'EOF'
import glob, json, sys
recs = {}
for f in sorted(glob.glob(f"{sys.argv[1]}/matvec-*.txt")):
    tag = f.split("matvec-")[1][:-4]
    for line in open(f):
        if line.startswith("{"):
            r = json.loads(line)
            recs.setdefault((r["type"], r["path"], r["rows"], r["cols"]), {})[tag] = (r["pct_of_copy"], r["grid"])
for k, v in sorted(recs.items()):
    print(*k, *(f"{t}={v[t][0]}({v[t][1]})" for t in sorted(v)))
EOF
RUNS=8B:IQ2_XXS,8B:Q8_0,1B:Q4_K
for r in 1 2; do
  for tree in base bal; do
    [ $(left $((L - 70))) -gt 40 ] || break 2
    (cd /tmp/$tree && PYTHONPATH=/tmp/site:/tmp/$tree timeout $(left $((L - 70))) python3 bench/decode.py --runs $RUNS --out /tmp/ab-$tree-$r) \
      > /tmp/ab.txt 2>&1; t "decode $tree round $r rc=$?"
    { echo "== $tree round $r"; cat /tmp/ab.txt; } >> $OUT/decode-ab-logs.txt; grep '^| [18]B' /tmp/ab.txt | cut -c1-75
  done
done
L2=$(left $((L - 20))); [ $L2 -gt 20 ] && { timeout $L2 python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/test_mmvq_warps_gpu.py \
  tests/kernels/test_matvec_persistent_gpu.py > $OUT/gpu-tests.txt 2>&1; t "tests rc=$?"; tail -2 $OUT/gpu-tests.txt | cut -c1-200; }
[ $(left $L) -gt 40 ] && { mvb base base-2 65536x4096 mmvq 0; mvb bal bal-2 65536x4096 mmvq 0; }
t done
true
