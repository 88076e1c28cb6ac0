"""bench/decode.py's printed markdown rows read back as its records (for device calls whose JSON
did not come back: the device tool returns at most 8 files). No engine imports."""

from __future__ import annotations

import re

CARD = re.compile(r"^card: (?P<name>[^(]+) \((?P<details>.*)\)$")  # bench/decode.py's "card:" line


def decode_records(lines: list[str], **extra) -> list[dict]:
    """The records of bench/decode.py's table rows in ``lines`` (its Record fields, the card from
    the "card:" line among them), each with ``extra`` added."""
    card = next(match for match in map(CARD.match, lines) if match)
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 8 and cells[0] in ("1B", "8B", "demo"):
            model, type_name, backend, kernel, pp, tg, tg_logits, _ = cells
            rows.append(dict(model=model, type=type_name, backend=backend, kernel=kernel, pp512_tps=float(pp),
                             tg128_tps=float(tg), tg128_logits_tps=float(tg_logits), card=card["name"].strip(),
                             card_details=card["details"], **extra))
    return rows
