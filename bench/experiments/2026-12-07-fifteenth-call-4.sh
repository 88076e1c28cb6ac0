#!/usr/bin/env bash
# Fifteenth session (2026-12-07), fourth device call, on the tree to land (HEAD + every layer kernel
# reading the step position through ql_step_pos after its wait; the chain-steps patch NOT applied):
# the PDL-order, greedy and compile GPU tests, the card's device-to-device copy bandwidth, and the
# decode table (bench/decode.py defaults). Run: the device tool, carry [".whl"], about 150 s.
. "$(dirname "$0")/device-call-preamble.sh"
export PYTHONPATH=/tmp/site:$A
timeout 120 python3 -m pytest -q -m gpu -p no:cacheprovider tests/runtime/test_cuda_pdl_order.py tests/runtime/test_cuda_greedy.py \
  tests/runtime/test_cuda_ops_compile.py > $OUT/gpu-tests-final.txt 2>&1; t "tests rc=$?"; tail -2 $OUT/gpu-tests-final.txt | cut -c1-200
(cd bench && python3 -c "import cupy, matvec; print(f'copy {matvec.copy_bandwidth(cupy):.0f} GB/s')") | tee $OUT/copy.txt
timeout 150 python3 bench/decode.py --out $OUT/decode > $OUT/decode.txt 2>&1; t "decode rc=$?"
grep '^|' $OUT/decode.txt | cut -c1-75
true
