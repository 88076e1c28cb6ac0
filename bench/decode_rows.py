"""bench/decode.py's printed markdown rows read back as its records (for device calls whose JSON
did not come back: the device tool returns at most 8 files). No engine imports."""

from __future__ import annotations

import re
from pathlib import Path

CARD = re.compile(r"^card: (?P<name>[^(]+) \((?P<details>.*)\)$")  # bench/decode.py's "card:" line
SECTION = re.compile(r"^== (?P<tree>\w+) round (?P<round>\d+)$")  # a device call's A/B log: one run


def decode_records(lines: list[str], **extra) -> list[dict]:
    """The records of bench/decode.py's table rows in ``lines`` (its Record fields, the card from
    the "card:" line among them), each with ``extra`` added; none without a "card:" line."""
    card = next((match for match in map(CARD.match, lines) if match), None)
    if card is None:  # a run that failed before its table (its log says why)
        return []
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and cells[0] in ("1B", "8B", "demo"):
            model, type_name, backend, kernel, pp, tg, tg_logits, _ = cells
            rows.append(dict(model=model, type=type_name, backend=backend, kernel=kernel, pp512_tps=float(pp),
                             tg128_tps=float(tg), tg128_logits_tps=float(tg_logits), card=card["name"].strip(),
                             card_details=card["details"], **extra))
    return rows


def log_sections(path: Path, header: re.Pattern) -> list[tuple[re.Match, list[str]]]:
    """A device call's log split at the lines ``header`` matches: (that match, the lines after
    it up to the next), in order; lines before the first header are dropped."""
    sections: list[tuple[re.Match, list[str]]] = []
    for line in path.read_text().splitlines():
        match = header.match(line)
        if match:
            sections.append((match, []))
        elif sections:
            sections[-1][1].append(line)
    return sections


def ab_records(path: Path, **extra) -> list[dict]:
    """The records of an A/B log of a device call (sections "== TREE round R", each one
    bench/decode.py run's output), each with its tree, round and ``extra``."""
    return [rec for match, lines in log_sections(path, SECTION)
            for rec in decode_records(lines, **extra, tree=match["tree"], round=int(match["round"]))]
