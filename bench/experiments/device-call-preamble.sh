# Sourced by the device-call scripts beside it (run from the repository root on the device machine,
# with .whl/ and the git-ignored scratch folder .devrun/ carried): timing helpers t (log a step) and
# left N (seconds left of a budget of N), summ TAG FILE (a line per bench/matvec.py JSON record in
# FILE), the carried wheels installed into /tmp/site, the card's clocks, and the base tree
# (.devrun/base, HEAD before the change) copied to /tmp/base; A = the new tree.
set -u
s=$(date +%s); export OUT
t() { echo "== $1 at $(( $(date +%s)-s )) s"; }
left() { echo $(( $1 - ($(date +%s) - s) )); }
[ -d /tmp/site ] || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONUNBUFFERED=1 CUDA_DEVICE_ORDER=PCI_BUS_ID
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,driver_version --format=csv,noheader
rm -rf /tmp/base; mkdir -p /tmp/base; cp -r .devrun/base/engine .devrun/base/bench /tmp/base/; cp .devrun/precompile.py /tmp/base/
A=$PWD
summ() { grep -h '^{' "$2" | python3 -c "
import sys, json
for l in sys.stdin:
    r = json.loads(l); print('$1', r['type'], r['path'], r['rows'], r['cols'], r['ncols'], r['us'], r['pct_of_copy'], r['correct'])"; }
