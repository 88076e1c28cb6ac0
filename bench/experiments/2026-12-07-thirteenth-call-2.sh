#!/usr/bin/env bash
# Thirteenth session, second call: on the landed tree the 1-column mmvq of TQ1_0 (with TQ2_0 and
# IQ1_S beside it) at 65536x4096 three times -- the first call's table had TQ1_0 there at 185 us
# (10 % of copy) against 63 us the day before, with the mmvq SASS unchanged -- then, with the
# time left, the kernel GPU suite. Carry [".whl", ".devrun"]; about 60 s, + 110 s for the suite.
. "$(dirname "$0")/device-call-preamble.sh"
export PYTHONPATH=/tmp/site:$A
for rep in 1 2 3; do
  timeout 60 python3 bench/matvec.py --types TQ1_0,TQ2_0,IQ1_S --paths mmvq,mmvq-soft --shapes 65536x4096 --out /tmp/tq$rep > $OUT/tq1-mmvq-$rep.txt 2>&1; t "tq $rep rc=$?"
  summ r$rep $OUT/tq1-mmvq-$rep.txt
done
timeout 150 python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/ > $OUT/gpu-tests-kernels-landed.txt 2>&1; t "kernel tests rc=$?"; tail -1 $OUT/gpu-tests-kernels-landed.txt
t done
true
