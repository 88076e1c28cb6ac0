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
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parents[1] / "results"
RAW = RESULTS / "raw-2026-12-07-sixteenth"
CARD = re.compile(r"^card: (?P<name>[^(]+) \((?P<details>.*)\)$")
SECTION = re.compile(r"^== (?P<tree>\w+) round (?P<round>\d+)$")


def table_records(lines: list[str]) -> list[dict]:
    """bench/decode.py's rows in ``lines`` with its record fields (the card from its "card:" line)."""
    card = next(match for match in map(CARD.match, lines) if match)
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and cells[0] in ("1B", "8B", "demo"):
            model, type_name, backend, kernel, pp, tg, tg_logits, _ = cells
            rows.append(dict(model=model, type=type_name, backend=backend, kernel=kernel, pp512_tps=float(pp),
                             tg128_tps=float(tg), tg128_logits_tps=float(tg_logits), card=card["name"].strip(),
                             card_details=card["details"]))
    return rows


def ab_records(path: Path, call: int) -> list[dict]:
    sections: list[tuple[re.Match, list[str]]] = []
    for line in path.read_text().splitlines():
        match = SECTION.match(line)
        if match:
            sections.append((match, []))
        elif sections:
            sections[-1][1].append(line)
    return [dict(rec, call=call, tree=match["tree"], round=int(match["round"]))
            for match, lines in sections for rec in table_records(lines)]


def main() -> None:
    table = table_records((RAW / "call2-decode-table.txt").read_text().splitlines())
    (RESULTS / "decode-NVIDIA-H100-80GB-HBM3-2026-12-07-sixteenth.json").write_text(json.dumps(table, indent=1) + "\n")
    ab = [rec for call in (1, 2, 3, 4) for rec in ab_records(RAW / f"call{call}-decode-ab-logs.txt", call)]
    (RESULTS / "decode-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-sixteenth.json").write_text(json.dumps(ab, indent=1) + "\n")
    matvec = [dict(json.loads(line), tree=tree, round=rnd) for tree in ("base", "bal") for rnd in (1, 2)
              for line in (RAW / f"call3-matvec-{tree}-{rnd}.txt").read_text().splitlines() if line.startswith("{")]
    (RESULTS / "matvec-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-sixteenth-balanced-grid.json").write_text(
        json.dumps(matvec, indent=1) + "\n")
    print(f"{len(table)} decode table records, {len(ab)} decode A/B records, {len(matvec)} matvec A/B records")


if __name__ == "__main__":
    main()
