#!/usr/bin/env bash
# Sixteenth session (2026-12-07), second device call. The first call kept the layer-op load
# batching (norm, argmax, the attention's query/key/value with the step position) and dropped
# the value preload and the mat-vec residual prefetch (both slower). Here:
#   layer = that tree (.devrun/layer: this working tree);
#   lb4   = layer + __launch_bounds__(QL_BLOCK, 4) on ql_attention_split_rope_merged (64 registers
#           instead of 72, no spills: 4 CTAs per SM instead of 3; the value preload's 107 registers
#           had cost 6 %, so residency matters there) (.devrun/lb4);
#   base  = HEAD (.devrun/base).
#  1. decode tg128 base / layer / lb4 alternating, two rounds (8B IQ2_XXS, 8B Q8_0, 1B Q4_K);
#  2. the winner (lb4 only if faster than layer on every run, both rounds): the decode table
#     (bench/decode.py's default runs), then the runtime GPU tests with what is left.
# Run: the device tool, carry [".whl", ".devrun"]; LIMIT (default 560) = the seconds to plan for.
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-560}
for v in layer lb4; do rm -rf /tmp/$v; mkdir -p /tmp/$v; cp -r .devrun/$v/engine .devrun/$v/bench /tmp/$v/; done
RUNS=8B:IQ2_XXS,8B:Q8_0,1B:Q4_K
for r in 1 2; do
  for tree in base layer lb4; do
    [ $(left $((L - 200))) -gt 30 ] || break 2
    (cd /tmp/$tree && PYTHONPATH=/tmp/site:/tmp/$tree timeout $(left $((L - 200))) python3 bench/decode.py --runs $RUNS --out $OUT/ab-$tree-$r) \
      > /tmp/ab.txt 2>&1; t "decode $tree round $r rc=$?"
    { echo "== $tree round $r"; cat /tmp/ab.txt; } >> $OUT/decode-ab-logs.txt; grep '^| [18]B' /tmp/ab.txt | cut -c1-75
  done
done
WIN=$(python3 - "$OUT" <<'EOF'
import glob, json, sys
rates = {}
for tree in ("layer", "lb4"):
    for f in glob.glob(f"{sys.argv[1]}/ab-{tree}-*/decode-*.json"):
        for r in json.load(open(f)):
            rates.setdefault((r["model"], r["type"]), {}).setdefault(tree, []).append(r["tg128_tps"])
wins = [min(v.get("lb4", [0])) > max(v.get("layer", [1e9])) for v in rates.values()]
print("lb4" if wins and all(wins) else "layer")
EOF
)
t "winner $WIN"; echo "$WIN" > $OUT/winner.txt
cd /tmp/$WIN && export PYTHONPATH=/tmp/site:/tmp/$WIN
timeout $(left $((L - 120))) python3 bench/decode.py --out $OUT/table > $OUT/decode-table.txt 2>&1; t "decode table rc=$?"
grep '^| ' $OUT/decode-table.txt | cut -c1-80
cp -r $A/tests /tmp/$WIN/ && cp $A/pyproject.toml /tmp/$WIN/
L2=$(left $L); [ $L2 -gt 30 ] && { timeout $L2 python3 -m pytest -q -m gpu -p no:cacheprovider -x tests/runtime > $OUT/gpu-tests-runtime.txt 2>&1; t "runtime tests rc=$?"; tail -3 $OUT/gpu-tests-runtime.txt | cut -c1-200; }
t done
true
