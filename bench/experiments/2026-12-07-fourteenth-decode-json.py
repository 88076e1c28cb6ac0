"""The fourteenth 2026-12-07 session's decode A/B as JSON records: parses
bench/results/raw-2026-12-07-fourteenth/decode-ab-logs.txt (bench/decode.py's markdown output of
six runs in the order new 1, base 1, new 2, base 2, new 3, base 3; "new" = the clustered
attention merge, landed in 1b686be, "base" = 3aa10b1) into records with bench/decode.py's fields
plus ``tree`` and ``round``, written to
bench/results/decode-NVIDIA-H100-80GB-HBM3-2026-12-07-fourteenth.json.

    python bench/experiments/2026-12-07-fourteenth-decode-json.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: decode_rows
from decode_rows import decode_records  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results"
LOG = RESULTS / "raw-2026-12-07-fourteenth" / "decode-ab-logs.txt"
OUT = RESULTS / "decode-NVIDIA-H100-80GB-HBM3-2026-12-07-fourteenth.json"
ORDER = (("new", 1), ("base", 1), ("new", 2), ("base", 2), ("new", 3), ("base", 3))


def runs(text: str) -> list[list[str]]:
    """The log's lines split into runs (each starts with bench/decode.py's "kernels for" line)."""
    out: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("kernels for "):
            out.append([])
        out[-1].append(line)
    return out


def main() -> None:
    parts = runs(LOG.read_text())
    if len(parts) != len(ORDER):
        raise SystemExit(f"{LOG}: {len(parts)} runs, expected {len(ORDER)}")
    out = [r for run, (tree, rnd) in zip(parts, ORDER, strict=True) for r in decode_records(run, tree=tree, round=rnd)]
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT} ({len(out)} records)")


if __name__ == "__main__":
    main()
