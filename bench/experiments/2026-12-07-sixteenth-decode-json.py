"""The sixteenth 2026-12-07 session's decode results as JSON (the device tool returns at most 8
files, so bench/decode.py's own JSON of several runs stayed behind). Parses the markdown that
bench/decode.py printed, kept under bench/results/raw-2026-12-07-sixteenth/:
  * call2-decode-table.txt (the landed tree, bench/decode.py's default runs) ->
    decode-NVIDIA-H100-80GB-HBM3-2026-12-07-sixteenth.json (bench/decode.py's fields);
  * call1/2/3/4-decode-ab-logs.txt (sections "== TREE round R") ->
    decode-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-sixteenth.json (+ call, tree, round);
  * call3-matvec-{base,bal}-{1,2}.txt (bench/matvec.py's JSON lines) ->
    matvec-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-sixteenth-balanced-grid.json (+ tree, round).

    python bench/experiments/2026-12-07-sixteenth-decode-json.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: decode_rows
from decode_rows import ab_records, decode_records  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results"
RAW = RESULTS / "raw-2026-12-07-sixteenth"
def main() -> None:
    table = decode_records((RAW / "call2-decode-table.txt").read_text().splitlines())
    (RESULTS / "decode-NVIDIA-H100-80GB-HBM3-2026-12-07-sixteenth.json").write_text(json.dumps(table, indent=1) + "\n")
    ab = [rec for call in (1, 2, 3, 4) for rec in ab_records(RAW / f"call{call}-decode-ab-logs.txt", call=call)]
    (RESULTS / "decode-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-sixteenth.json").write_text(json.dumps(ab, indent=1) + "\n")
    matvec = [dict(json.loads(line), tree=tree, round=rnd) for tree in ("base", "bal") for rnd in (1, 2)
              for line in (RAW / f"call3-matvec-{tree}-{rnd}.txt").read_text().splitlines() if line.startswith("{")]
    (RESULTS / "matvec-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-sixteenth-balanced-grid.json").write_text(
        json.dumps(matvec, indent=1) + "\n")
    print(f"{len(table)} decode table records, {len(ab)} decode A/B records, {len(matvec)} matvec A/B records")


if __name__ == "__main__":
    main()
