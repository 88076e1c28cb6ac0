#!/usr/bin/env bash
# Fifteenth session (2026-12-07), fifth device call: the runtime GPU suite on the tree that landed
# (every layer kernel reading the step position through ql_step_pos). Run: the device tool,
# carry [".whl", ".devrun"], about 200 s.
. "$(dirname "$0")/device-call-preamble.sh"
export PYTHONPATH=/tmp/site:$A
timeout ${LIMIT:-240} python3 -m pytest -q -m gpu -p no:cacheprovider tests/runtime/ > $OUT/gpu-tests-runtime.txt 2>&1
t "runtime suite rc=$?"; tail -3 $OUT/gpu-tests-runtime.txt | cut -c1-200
true
