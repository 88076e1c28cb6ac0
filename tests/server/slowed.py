"""engine.generate slowed down, for tests that need a generation still running when they act."""

from __future__ import annotations

import time

from engine.generate import generate

PIECE_DELAY_S = 0.02  # per generated piece: a 240-token generation takes > 240 * 20 ms uncancelled


def slowed_generate(results: list):
    """engine.generate with a pause after each piece; each result is recorded."""
    def run(model, tokenizer, ids, params, on_text=None, cancel=None):
        def slow_text(piece):
            if on_text is not None:
                on_text(piece)
            time.sleep(PIECE_DELAY_S)
        result = generate(model, tokenizer, ids, params, on_text=slow_text, cancel=cancel)
        results.append(result)
        return result
    return run
