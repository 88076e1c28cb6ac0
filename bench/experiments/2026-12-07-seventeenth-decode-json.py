"""The seventeenth 2026-12-07 session's results as JSON, from the raw files of its four device
calls under bench/results/raw-2026-12-07-seventeenth/call<N>/ (README there):
  * decode-ab-logs.txt (sections "== TREE round R") ->
    decode-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-seventeenth.json (+ call, tree, round);
  * shapes-TREE.json (chain-timed one-column IQ2_XXS mmvq, us) ->
    matvec-shapes-NVIDIA-H100-80GB-HBM3-2026-12-07-seventeenth.json (records call, tree, type,
    rows, cols, us, card).

    python bench/experiments/2026-12-07-seventeenth-decode-json.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: decode_rows
from decode_rows import ab_records  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results"
RAW = RESULTS / "raw-2026-12-07-seventeenth"
CALLS = (1, 2, 3, 4)


def shape_records(call: int, card: str) -> list[dict]:
    records = []
    for path in sorted((RAW / f"call{call}").glob("shapes-*.json")):
        tree = path.stem.removeprefix("shapes-")
        for key, us in json.loads(path.read_text()).items():  # "IQ2_XXS 4096x14336": us
            type_name, shape = key.split()
            rows, cols = map(int, shape.split("x"))
            records.append(dict(call=call, tree=tree, type=type_name, rows=rows, cols=cols, us=us, card=card))
    return records


def main() -> None:
    ab = [rec for call in CALLS for rec in ab_records(RAW / f"call{call}" / "decode-ab-logs.txt", call=call)]
    (RESULTS / "decode-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-seventeenth.json").write_text(json.dumps(ab, indent=1) + "\n")
    card = ab[0]["card"]
    shapes = [rec for call in CALLS for rec in shape_records(call, card)]
    (RESULTS / "matvec-shapes-NVIDIA-H100-80GB-HBM3-2026-12-07-seventeenth.json").write_text(
        json.dumps(shapes, indent=1) + "\n")
    print(f"{len(ab)} decode A/B records, {len(shapes)} chain-timed shape records ({card})")


if __name__ == "__main__":
    main()
