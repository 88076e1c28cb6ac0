# Sourced by the device-call scripts beside it (run from the repository root on the device machine,
# with .whl/ and the git-ignored scratch folder .devrun/ carried): timing helpers t (log a step) and
# left N (seconds left of a budget of N), summ TAG FILE (a line per bench/matvec.py JSON record in
# FILE), the carried wheels installed into /tmp/site, the card's clocks, and the base tree
# (.devrun/base, HEAD before the change, where carried) copied to /tmp/base; A = the new tree; full_table_and_tests;
# stage_tree (a copy with other MMVQ_SMEM_STAGES).
# .whl/ (git-ignored) holds the wheels the device's Python 3.12 lacks; on a fresh checkout:
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 \
#     --platform manylinux_2_17_x86_64 -d .whl gguf platformdirs pyyaml tqdm
set -u
s=$(date +%s); export OUT
t() { echo "== $1 at $(( $(date +%s)-s )) s"; }
left() { echo $(( $1 - ($(date +%s) - s) )); }
[ -d /tmp/site ] || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONUNBUFFERED=1 CUDA_DEVICE_ORDER=PCI_BUS_ID
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,driver_version --format=csv,noheader
[ -d .devrun/base ] && { rm -rf /tmp/base; mkdir -p /tmp/base; cp -r .devrun/base/engine .devrun/base/bench /tmp/base/; }
A=$PWD
summ() { grep -h '^{' "$2" | python3 -c "
import sys, json
for l in sys.stdin:
    r = json.loads(l); print('$1', r['type'], r['path'], r['rows'], r['cols'], r['ncols'], r['us'], r['pct_of_copy'], r['correct'])"; }
# full_table_and_tests P T K: (the tree $A) fill the kernel cache until P s into the call, the full
# matvec table (an H100 only: the targets' card) until T s, the kernel GPU suite until K s.
full_table_and_tests() {
  export PYTHONPATH=/tmp/site:$A
  timeout $(left $1) python3 bench/experiments/precompile.py > /tmp/pc-all.txt 2>&1; t "precompile all rc=$?"; tail -2 /tmp/pc-all.txt
  if nvidia-smi --query-gpu=name --format=csv,noheader | grep -q H100; then
    mkdir -p $OUT/table
    timeout $(left $2) python3 bench/matvec.py --out $OUT/table > /tmp/table.txt 2>&1; t "table rc=$?"; grep -v '^{' /tmp/table.txt | tail -3
    cp /tmp/table.txt $OUT/table-log.txt
  fi
  local L=$(left $3); [ $L -gt 20 ] && { timeout $L python3 -m pytest -q -m gpu -p no:cacheprovider tests/kernels/ > $OUT/gpu-tests-kernels.txt 2>&1; t "kernel tests rc=$?"; tail -3 $OUT/gpu-tests-kernels.txt; }
}
# stage_tree DIR STAGES TYPES: a copy of this tree's engine and bench at DIR whose
# MMVQ_SMEM_STAGES reserves STAGES tile stages for the comma-separated TYPES (IQ2_XXS keeps 4).
stage_tree() {
  rm -rf "$1"; mkdir -p "$1"; cp -r engine bench "$1"/
  python3 - "$1"/engine/kernels/sources.py "$2" "$3" <<'PY'
import re, sys
path, stages, types = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
text = open(path).read()
entries = {"IQ2_XXS": 4, **{t: stages for t in types}}
text, n = re.subn(r"^MMVQ_SMEM_STAGES = \{[^}]*\}$", f"MMVQ_SMEM_STAGES = {entries!r}", text, flags=re.M)
assert n == 1, "MMVQ_SMEM_STAGES not found"
open(path, "w").write(text)
PY
}
