#!/usr/bin/env bash
# Eighteenth session (2026-12-07): which earlier run of the decode table slows the 8B IQ2_XXS
# run that follows it in the same process (608 t/s in the table, 614-617 alone or after 8B Q8_0).
. "$(dirname "$0")/device-call-preamble.sh"
export PYTHONPATH=/tmp/site:$A
run() { t "start $1"; timeout 200 python3 bench/decode.py --runs $2 --out /tmp/$1 > /tmp/$1.txt 2>&1; t "end $1 rc=$?";
        { echo "== $1"; cat /tmp/$1.txt; } >> $OUT/runs.txt; grep '^| [18]B' /tmp/$1.txt | cut -c1-110; }
run after-iq4 8B:IQ4_XS,8B:IQ2_XXS
run after-1b 1B:Q4_K,8B:IQ2_XXS
run table 1B:Q4_K,8B:Q4_0,8B:Q4_K,8B:Q8_0,8B:IQ4_XS,8B:IQ2_XXS
run solo 8B:IQ2_XXS
t done
