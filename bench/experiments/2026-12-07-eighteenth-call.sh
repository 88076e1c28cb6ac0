#!/usr/bin/env bash
# Eighteenth session (2026-12-07), one call: (1) the down projection (4096 x 14336 IQ2_XXS,
# chain-timed) under other kernel choices: .devrun/exp = HEAD with IQ2_XXS in MMVQ_WARPS (warp
# kernel R = 1..4, CTA kernel R = 3, 4), .devrun/exp2 = HEAD with the long-rows kernel at R = 4
# reserving 3 stages; (2) why 8B IQ2_XXS decodes at 608 t/s as the last run of the decode table
# and at 614-617 alone: alone / after 8B Q8_0 in one process / alone after a pause, with the
# card's temperature, clocks and power logged every 200 ms.
. "$(dirname "$0")/device-call-preamble.sh"
L=${LIMIT:-420}
for tree in exp exp2; do
  rm -rf /tmp/$tree; mkdir -p /tmp/$tree; cp -r .devrun/$tree/engine .devrun/$tree/bench /tmp/$tree/
done
(cd /tmp/exp && PYTHONPATH=/tmp/site:/tmp/exp timeout $(left 200) python3 bench/experiments/2026-12-07-eighteenth-down-sweep.py exp) 2>&1 | tail -12; t "sweep exp"
(cd /tmp/exp2 && VARIANTS=default,ctas-4 PYTHONPATH=/tmp/site:/tmp/exp2 timeout $(left 240) python3 bench/experiments/2026-12-07-eighteenth-down-sweep.py exp2) 2>&1 | tail -4; t "sweep exp2"
(VARIANTS=default PYTHONPATH=/tmp/site:$A timeout $(left 260) python3 bench/experiments/2026-12-07-eighteenth-down-sweep.py head) 2>&1 | tail -2; t "sweep head"
export PYTHONPATH=/tmp/site:$A
nvidia-smi --query-gpu=timestamp,temperature.gpu,temperature.memory,clocks.sm,clocks.mem,power.draw,clocks_throttle_reasons.active \
  --format=csv,noheader -lms 200 > $OUT/smi.csv 2>&1 &
SMI=$!
run() { [ $(left $((L - 40))) -gt 0 ] || return; t "start $1"; timeout $(left $L) python3 bench/decode.py --runs $2 --out /tmp/$1 > /tmp/$1.txt 2>&1; t "end $1 rc=$?";
        { echo "== $1"; cat /tmp/$1.txt; } >> $OUT/runs.txt; grep '^| 8B' /tmp/$1.txt | cut -c1-120; }
run solo1 8B:IQ2_XXS
run after-q8 8B:Q8_0,8B:IQ2_XXS,8B:IQ2_XXS
sleep 20; t "pause"
run solo2 8B:IQ2_XXS
kill $SMI; t done
