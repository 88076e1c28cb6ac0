"""The eighteenth 2026-12-07 session's results as JSON, from the raw files of its device calls
under bench/results/raw-2026-12-07-eighteenth/call<N>/ (README there).

Every bench/decode.py run becomes records (bench/decode_rows.decode_records) with ``call``,
``run`` (what ran: "table" = the default runs, in one process up to call 4 and one process each
in call 5; "solo" = 8B IQ2_XXS alone; "after-X" = after X in the same process; "ab TREE N" = an
alternating A/B run) and ``reserved_stages``, the tile stages the one-column IQ2_XXS mmvq
reserves in that tree (2: b033f39, 3: 173e435, 4: the tree that landed after this session's
calls, .devrun/exp3 there):
  -> decode-NVIDIA-H100-80GB-HBM3-2026-12-07-eighteenth.json.
The chain-timed down-projection sweeps (call 3) and 8B decode shapes (call 5):
  -> matvec-shapes-NVIDIA-H100-80GB-HBM3-2026-12-07-eighteenth.json (records call, tree,
     reserved_stages, variant or shape, us, and for the sweeps kernel, grid, err; card).

    python bench/experiments/2026-12-07-eighteenth-decode-json.py
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: decode_rows
from decode_rows import decode_records, log_sections  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results"
RAW = RESULTS / "raw-2026-12-07-eighteenth"
HEADER = re.compile(r"^== (?P<name>[\w-]+(?: round)?(?: \d+)?)$")  # "== solo1", "== exp3 2", "== new round 1"
STAGES = {"base": 2, "exp3": 4}  # a section's first word -> reserved stages; the rest: 3 (173e435)
# call -> the logs of that call: (file, run name or None for "== NAME" sections)
LOGS = {1: (("decode-table.txt", "table"), ("decode-ab-logs.txt", None)),
        2: (("decode-table2.txt", "table"), ("solo.txt", "solo")),
        3: (("runs.txt", None),), 4: (("runs.txt", None),),
        5: (("decode-table.txt", "table"), ("decode-ab.txt", None)), 6: (("decode-ab.txt", None),)}


def decode_runs() -> list[dict]:
    records = []
    for call, logs in LOGS.items():
        for name, run in logs:
            path = RAW / f"call{call}" / name
            parts = ([(run, path.read_text().splitlines())] if run
                     else [(match["name"], lines) for match, lines in log_sections(path, HEADER)])
            for run_name, lines in parts:
                first = run_name.split()[0]
                label = run_name if run else (f"ab {run_name}" if first in ("base", "new", "exp3", "head") else run_name)
                records += decode_records(lines, call=call, run=label, reserved_stages=STAGES.get(first, 3))
    return records


def shape_records(card: str) -> list[dict]:
    records = []
    for path in sorted((RAW / "call3").glob("down-*.json")):  # variant -> {us, kernel, grid, err}
        tree = path.stem.removeprefix("down-")
        for variant, rec in json.loads(path.read_text()).items():
            records.append(dict(call=3, tree=tree, reserved_stages=3, variant=variant, type="IQ2_XXS", rows=4096,
                                cols=14336, **rec, card=card))
    for path in sorted((RAW / "call5").glob("shapes-*.json")):  # "IQ2_XXS 4096x14336" -> us
        tree = path.stem.removeprefix("shapes-").rsplit("-", 1)[0]
        for key, us in json.loads(path.read_text()).items():
            type_name, shape = key.split()
            rows, cols = map(int, shape.split("x"))
            records.append(dict(call=5, tree=tree, reserved_stages=STAGES.get(tree, 3), variant="default",
                                type=type_name, rows=rows, cols=cols, us=us, card=card))
    return records


def main() -> None:
    runs = decode_runs()
    (RESULTS / "decode-NVIDIA-H100-80GB-HBM3-2026-12-07-eighteenth.json").write_text(json.dumps(runs, indent=1) + "\n")
    shapes = shape_records(runs[0]["card"])
    (RESULTS / "matvec-shapes-NVIDIA-H100-80GB-HBM3-2026-12-07-eighteenth.json").write_text(
        json.dumps(shapes, indent=1) + "\n")
    print(f"{len(runs)} decode records, {len(shapes)} chain-timed records ({runs[0]['card']})")
    for rec in runs:
        if rec["type"] == "IQ2_XXS":
            print(rec["call"], rec["run"], rec["reserved_stages"], rec["tg128_tps"])


if __name__ == "__main__":
    main()
