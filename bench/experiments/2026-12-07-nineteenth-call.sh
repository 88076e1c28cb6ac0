#!/usr/bin/env bash
# Nineteenth session (2026-12-07), prepared for issue 3 (the instruction-bound mat-vecs); run in the
# twentieth session on an H100 (../results/raw-2026-12-07-twentieth/call1/), after which both
# patches landed (5549ee7's tree holds them: git show 5549ee7:bench/experiments/<name>).
#   new  = HEAD + 2026-12-07-nineteenth-misalign-once.patch, in .devrun/new: TQ1_0's trits gathered
#          with one byte permute (tq1_trits4) and its vec_dot's words read as aligned runs; the
#          block's misalignment handed to the vec_dots of TQ1_0, TQ2_0, Q3_K and Q6_K once per chunk
#          through order_q_at (load_u32s_at2, k_run_dot_halves) instead of recomputed for every row;
#   stg  = this tree, with both patches applied: new + 2026-12-07-nineteenth-row-copies.patch (the
#          tile copies of a row group whose rows all exist addressed by one 64-bit add per row in
#          ql_copy_rows, not a clamp and a 64-bit multiply each);
#   base = HEAD (.devrun/base);
#   s3, s4 = stg with the one-column CTA mmvq of Q2_K, IQ2_XS, IQ2_S, IQ1_S, IQ1_M, TQ2_0 and
#          TQ1_0 reserving 3 / 4 tile stages (MMVQ_SMEM_STAGES; made here by a regex).
# Before the call, from the repository root at HEAD:
#   rm -rf .devrun/base .devrun/new && mkdir -p .devrun/base .devrun/new
#   git archive HEAD engine bench | tar -x -C .devrun/base
#   git apply bench/experiments/2026-12-07-nineteenth-misalign-once.patch
#   git archive HEAD bench | tar -x -C .devrun/new && cp -r engine .devrun/new/
#   git apply bench/experiments/2026-12-07-nineteenth-row-copies.patch
#  0. the four trees' kernels compiled side by side;
#  1. GPU tests on stg: the changed types (every path, column count, soft dp4a; Q6_K's warp
#     kernel) and the layouts that share the copies (persistent grid, warps, long rows);
#  2. matvec base / new / stg alternating, two rounds: TQ1_0, TQ2_0, Q3_K, Q6_K, Q4_0, Q8_0, mmvq
#     and dmmv, 65536x4096 and 4096x14336, 1 and 8 columns;
#  3. one-column mmvq at 65536 x 4096, stg / s3 / s4 alternating, two rounds, while time is left.
# Logs: $OUT/precompile.txt, gpu-tests.txt, matvec-ab.txt and stages-ab.txt (sections
# "== TREE round R"). Run: the device tool, carry [".whl", ".devrun"]; LIMIT (default 560),
# TESTS_S, TESTS_K (pytest -k), RESERVE below, MV_TYPES / MV_SHAPES / MV_NCOLS (step 2's);
# TREES_ONLY=1 compiles base, new and stg only (no step 3).
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-560}
TESTS_S=${TESTS_S:-150}  # the GPU tests' limit (s)
RESERVE=${RESERVE:-150}  # seconds kept for step 3 (0: step 2 may use everything)
TYPES=${MV_TYPES:-TQ1_0,TQ2_0,Q3_K,Q6_K,Q4_0,Q8_0}
STYPES=Q2_K,IQ2_XS,IQ2_S,IQ1_S,IQ1_M,TQ2_0,TQ1_0
rm -rf /tmp/new; mkdir -p /tmp/new; cp -r .devrun/new/engine .devrun/new/bench /tmp/new/
for st in 3 4; do stage_tree /tmp/s$st $st $STYPES; done  # (device-call-preamble.sh)
tree_dir() { case $1 in stg) echo $A;; *) echo /tmp/$1;; esac; }
TREES="base new stg s3 s4"; [ "${TREES_ONLY:-0}" = 1 ] && TREES="base new stg"
for tree in $TREES; do
  types=$TYPES; [ $tree = s3 -o $tree = s4 ] && types=$STYPES
  [ $tree = stg ] && [ "${TREES_ONLY:-0}" != 1 ] && types=$TYPES,$STYPES,IQ2_XXS
  dir=$(tree_dir $tree)
  soft=0; [ $tree = stg ] && soft=1  # the tests run on stg only
  (cd $dir && PYTHONPATH=/tmp/site:$dir TYPES=$types SOFT=$soft timeout 240 python3 bench/experiments/precompile.py \
    > /tmp/pc-$tree.txt 2>&1; echo "$tree rc=$? $(tail -1 /tmp/pc-$tree.txt)" >> $OUT/precompile.txt) &
done
wait; t "precompiled"; cat $OUT/precompile.txt
export PYTHONPATH=/tmp/site:$A
timeout $TESTS_S python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/ \
  -k "${TESTS_K:-TQ1_0 or TQ2_0 or Q3_K or Q6_K or persistent or warps or long_rows}" > $OUT/gpu-tests.txt 2>&1
t "tests rc=$?"; tail -3 $OUT/gpu-tests.txt | cut -c1-200
for r in 1 2; do
  for tree in base new stg; do
    [ $(left $((L - RESERVE))) -gt 30 ] || break 2
    dir=$(tree_dir $tree)
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left $((L - RESERVE))) python3 bench/matvec.py --types $TYPES \
      --shapes ${MV_SHAPES:-65536x4096,4096x14336} --ncols ${MV_NCOLS:-1,8} --paths mmvq,dmmv --out /tmp/mv-$tree-$r) > /tmp/mv.txt 2>&1
    t "matvec $tree round $r rc=$?"; { echo "== $tree round $r"; cat /tmp/mv.txt; } >> $OUT/matvec-ab.txt
    summ $tree-$r /tmp/mv.txt | grep ' 65536 4096 1 '
  done
done
[ "${TREES_ONLY:-0}" = 1 ] || for r in 1 2; do
  for tree in stg s3 s4; do
    [ $(left $((L - 15))) -gt 25 ] || break 2
    dir=$(tree_dir $tree)
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left $((L - 15))) python3 bench/matvec.py --types $STYPES \
      --shapes 65536x4096 --ncols 1 --paths mmvq --out /tmp/st-$tree-$r) > /tmp/st.txt 2>&1
    t "stages $tree round $r rc=$?"; { echo "== $tree round $r"; cat /tmp/st.txt; } >> $OUT/stages-ab.txt
    summ $tree-$r /tmp/st.txt
  done
done
t done
true
