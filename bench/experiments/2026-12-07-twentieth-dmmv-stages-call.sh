#!/usr/bin/env bash
# Twentieth session (2026-12-07), prepared for issue 3's dmmv target (one column >= 75 % of copy);
# not run: the session's device time was spent on the nineteenth session's call and the stage sweeps.
# The one-column mmvq of the 2- and 3-bit types gained 2-9 % from reserving 3-4 tile stages (fewer
# CTAs per SM, more registers: MMVQ_SMEM_STAGES). This tries the same for the one-column dmmv,
# where those types sit at 16-38 % of copy:
#   base = this tree (A);
#   e3, e4 = copies reserving up to 3 / 4 stages within 38 KB (2026-12-07-twentieth-dmmv-stages-tree.py;
#            changes only the small-block types: IQ1_S, IQ1_M, IQ2_*, IQ3_XXS, Q2_K, TQ1_0, TQ2_0).
#  0. the three trees' dmmv kernels compiled side by side;
#  1. the dmmv GPU tests of those types on e4 (correctness does not depend on the reservation,
#     the kernels' code does: other registers, other schedule);
#  2. one-column dmmv base / e3 / e4 alternating, two rounds, 65536x4096, 14336x4096, 4096x14336.
# Logs: $OUT/precompile.txt, gpu-tests.txt, dmmv-stages-ab.txt (sections "== TREE round R": parse
# with 2026-12-07-twentieth-json.py RAW_DIR OUT_JSON). Run: the device tool, carry [".whl"];
# LIMIT (default 400 s).
. "$(dirname "$0")/device-call-preamble.sh"  # t, left, summ, the wheels, A (no .devrun/base needed)
L=${LIMIT:-400}
TYPES=IQ1_S,IQ1_M,IQ2_XXS,IQ2_XS,IQ2_S,IQ3_XXS,Q2_K,TQ1_0,TQ2_0
for st in 3 4; do python3 bench/experiments/2026-12-07-twentieth-dmmv-stages-tree.py /tmp/e$st $st || exit 1; done
tree_dir() { case $1 in base) echo $A;; *) echo /tmp/$1;; esac; }
for tree in base e3 e4; do
  dir=$(tree_dir $tree)
  (cd $dir && PYTHONPATH=/tmp/site:$dir TYPES=$TYPES SOFT=0 timeout 200 python3 bench/experiments/precompile.py \
    > /tmp/pc-$tree.txt 2>&1; echo "$tree rc=$? $(tail -1 /tmp/pc-$tree.txt)" >> $OUT/precompile.txt) &
done
wait; t "precompiled"; cat $OUT/precompile.txt
(cd /tmp/e4 && cp -r $A/tests $A/pyproject.toml . && PYTHONPATH=/tmp/site:/tmp/e4 timeout 120 python3 -m pytest -q -m gpu -p no:cacheprovider \
  tests/kernels/test_matvec_gpu.py -k "dmmv and (IQ1 or IQ2 or IQ3_XXS or Q2_K or TQ)" > $OUT/gpu-tests.txt 2>&1)
t "tests rc=$?"; tail -2 $OUT/gpu-tests.txt | cut -c1-200
for r in 1 2; do
  for tree in base e3 e4; do
    [ $(left $L) -gt 30 ] || break 2
    dir=$(tree_dir $tree)
    (cd $dir && PYTHONPATH=/tmp/site:$dir timeout $(left $L) python3 bench/matvec.py --types $TYPES \
      --shapes 65536x4096,14336x4096,4096x14336 --ncols 1 --paths dmmv --out /tmp/mv-$tree-$r) > /tmp/mv.txt 2>&1
    t "dmmv $tree round $r rc=$?"; { echo "== $tree round $r"; cat /tmp/mv.txt; } >> $OUT/dmmv-stages-ab.txt
    summ $tree-$r /tmp/mv.txt
  done
done
t done
true
