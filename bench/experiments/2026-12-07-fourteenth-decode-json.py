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
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"
LOG = RESULTS / "raw-2026-12-07-fourteenth" / "decode-ab-logs.txt"
OUT = RESULTS / "decode-NVIDIA-H100-80GB-HBM3-2026-12-07-fourteenth.json"
ORDER = (("new", 1), ("base", 1), ("new", 2), ("base", 2), ("new", 3), ("base", 3))
CARD = re.compile(r"^card: (?P<name>[^(]+) \((?P<details>.*)\)$")


def runs(text: str) -> list[list[str]]:
    """The log's lines split into runs (each starts with bench/decode.py's "kernels for" line)."""
    out: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("kernels for "):
            out.append([])
        out[-1].append(line)
    return out


def records(run: list[str], tree: str, rnd: int) -> list[dict]:
    card = next(match for match in map(CARD.match, run) if match)
    rows = []
    for line in run:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and cells[0] in ("1B", "8B", "demo"):
            model, type_name, backend, kernel, pp, tg, tg_logits, _ = cells
            rows.append(dict(model=model, type=type_name, backend=backend, kernel=kernel, pp512_tps=float(pp),
                             tg128_tps=float(tg), tg128_logits_tps=float(tg_logits), card=card["name"].strip(),
                             card_details=card["details"], tree=tree, round=rnd))
    return rows


def main() -> None:
    parts = runs(LOG.read_text())
    if len(parts) != len(ORDER):
        raise SystemExit(f"{LOG}: {len(parts)} runs, expected {len(ORDER)}")
    out = [r for run, (tree, rnd) in zip(parts, ORDER, strict=True) for r in records(run, tree, rnd)]
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {OUT} ({len(out)} records)")


if __name__ == "__main__":
    main()
