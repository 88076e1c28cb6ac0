"""The mat-vec A/B runs of the twentieth 2026-12-07 session (the nineteenth session's prepared
call and the stage sweeps after it) as JSON, from the raw files of its device calls under
bench/results/raw-2026-12-07-twentieth/call<N>/ (README there): every bench/matvec.py record
of the sections "== TREE round R" of matvec-ab.txt and stages-ab.txt, and of the one-run logs
LOG-TREE-R.txt (st-t2-1.txt: log st, tree t2, round 1), with ``call``, ``log``, ``tree`` and
``round`` added
  -> matvec-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-twentieth.json,
and a summary per (log, type, path, shape, columns): each tree's best microseconds and its ratio
to the log's first tree (printed; --md writes it as markdown to stdout).

    python bench/experiments/2026-12-07-twentieth-json.py [--md] [RAW_DIR OUT_JSON]

(RAW_DIR and OUT_JSON: another session's calls laid out the same way, e.g. those of
2026-12-07-twentieth-dmmv-stages-call.sh.)
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/: decode_rows
from decode_rows import SECTION, log_sections  # noqa: E402

RESULTS = Path(__file__).resolve().parents[1] / "results"
RAW = RESULTS / "raw-2026-12-07-twentieth"
OUT = RESULTS / "matvec-ab-NVIDIA-H100-80GB-HBM3-2026-12-07-twentieth.json"
CALL = re.compile(r"^call(\d+)$")
ONE_RUN = re.compile(r"^(?P<log>[a-z0-9]+)-(?P<tree>[a-z0-9]+)-(?P<round>\d+)$")  # st-t2-1: log, tree, round


def records(raw: Path = RAW) -> list[dict]:
    found = []
    for call_dir in sorted((p for p in raw.iterdir() if CALL.match(p.name)), key=lambda p: int(CALL.match(p.name)[1])):
        call = int(CALL.match(call_dir.name)[1])
        for path in sorted(call_dir.glob("*.txt")):
            runs = ([(m.groupdict(), lines) for m, lines in log_sections(path, SECTION)] if path.stem.endswith("-ab")
                    else one_run(path))
            for fields, lines in runs:
                found += [{**json.loads(line), "call": call, "log": fields.get("log", path.stem),
                           "tree": fields["tree"], "round": int(fields["round"])}
                          for line in lines if line.startswith("{")]
    return found


def one_run(path: Path) -> list[tuple[dict, list[str]]]:
    """A LOG-TREE-R.txt file as one section (none for other names: test and compile logs)."""
    match = ONE_RUN.match(path.stem)
    return [(match.groupdict(), path.read_text().splitlines())] if match else []


def summary(recs: list[dict]) -> list[tuple]:
    """(log, type, path, shape, ncols, {tree: best us}, {tree: best % of copy}) in first-seen order."""
    best: dict[tuple, dict[str, dict]] = defaultdict(dict)
    for r in recs:
        key = (r["log"], r["type"], r["path"], f"{r['rows']}x{r['cols']}", r["ncols"])
        if r["tree"] not in best[key] or r["us"] < best[key][r["tree"]]["us"]:
            best[key][r["tree"]] = r
    return [(*key, {t: v["us"] for t, v in trees.items()}, {t: v["pct_of_copy"] for t, v in trees.items()})
            for key, trees in best.items()]


def markdown(rows: list[tuple]) -> str:
    lines = []
    for log in dict.fromkeys(r[0] for r in rows):
        mine = [r for r in rows if r[0] == log]
        trees = list(dict.fromkeys(t for r in mine for t in r[5]))
        columns = ["type", "path", "shape", "cols", *trees, *(f"{t} ratio" for t in trees[1:])]
        lines += [f"### {log}: best of the rounds, µs (% of copy); ratio = first tree's µs / this tree's", "",
                  "| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        for _, type_name, path, shape, ncols, us, pct in mine:
            cells = [f"{us[t]:.2f} ({pct[t]:.1f})" if t in us else "-" for t in trees]
            ratios = [f"{us[trees[0]] / us[t]:.3f}" if t in us and trees[0] in us else "-" for t in trees[1:]]
            lines.append(f"| {type_name} | {path} | {shape} | {ncols} | " + " | ".join(cells + ratios) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    paths = [Path(a) for a in sys.argv[1:] if a != "--md"]
    raw, out = (paths[0], paths[1]) if len(paths) == 2 else (RAW, OUT)
    if not raw.is_dir():
        print(f"no raw files at {raw}: copy the device calls' files there first")
        return 1
    recs = records(raw)
    out.write_text(json.dumps(recs, indent=1) + "\n")
    print(markdown(summary(recs)) if "--md" in sys.argv else f"wrote {out} ({len(recs)} records)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
