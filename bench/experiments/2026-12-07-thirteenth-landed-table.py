"""Compose the matvec table of the code landed in the thirteenth session from that call's raw logs.

The call (2026-12-07-thirteenth-call.sh) timed the full table on HEAD + the halves patch for every
type ("all halves"); what landed uses the halves for some types only. The kernels of every type are
byte-identical in SASS (NVRTC 13, sm_90) to one of the two measured trees: mmvq and mmvq-soft to
both, the dmmv of the HALVES types to "all halves", the dmmv of the others to HEAD ("base"). So:
every cell comes from the table run, except the dmmv cells of the non-HALVES types, which are the
median of the call's two A/B rounds of base (same card, same call, same bench/matvec.py settings);
those records carry "source": "ab-base-median".

    python bench/experiments/2026-12-07-thirteenth-landed-table.py RAW_DIR OUT_STEM
"""

from __future__ import annotations

import json
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from matvec import markdown  # noqa: E402  (bench/matvec.py)

HALVES = {"Q5_0", "Q8_0", "Q2_K", "Q3_K", "Q6_K", "TQ1_0", "TQ2_0", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S"}
FLOATS = {"F32", "F16", "BF16"}  # no byte-to-float step: identical in both trees


def json_lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def base_medians(ab_log: Path) -> dict[tuple, dict]:
    """(type, rows, cols, ncols) -> a record of the base rounds with median us / gbps / %."""
    rounds: dict[tuple, list[dict]] = {}
    tree = None
    for line in ab_log.read_text().splitlines():
        header = re.match(r"### /tmp/dm-(new|base)\d\.txt", line)
        if line.startswith("### "):
            tree = header.group(1) if header else None
        elif tree == "base" and line.startswith("{"):
            r = json.loads(line)
            rounds.setdefault((r["type"], r["rows"], r["cols"], r["ncols"]), []).append(r)
    out = {}
    for key, recs in rounds.items():
        merged = dict(recs[0], source="ab-base-median", rounds=len(recs))
        for field in ("us", "gbps", "pct_of_copy"):
            merged[field] = round(statistics.median(r[field] for r in recs), 2)
        merged["correct"] = all(r["correct"] for r in recs)
        out[key] = merged
    return out


def main(raw: Path, stem: Path) -> None:
    table = json_lines(raw / "table-log-all-halves.txt")
    base = base_medians(raw / "ab-dmmv-halves-logs.txt")
    landed = []
    for r in table:
        key = (r["type"], r["rows"], r["cols"], r["ncols"])
        if r["path"] == "dmmv" and r["type"] not in HALVES | FLOATS:
            landed.append(base[key])
        else:
            landed.append(dict(r, source="table"))
    stem.with_suffix(".json").write_text(json.dumps(landed, indent=1) + "\n")
    card, copy = table[0]["card"], table[0]["copy_gbps"]
    stem.with_suffix(".md").write_text(markdown(landed, card, copy))


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
