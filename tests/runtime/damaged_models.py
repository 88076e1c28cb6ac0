"""Damaged models for the runtime tests: synthetic GGUF files with one tensor overwritten
(NaN, infinity, all-0xFF quant blocks), and a model that turns NaN after a few steps."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np

from engine.synth import write_synthetic_model
from engine.synth_spec import SynthSpec
from tests.model_file.model_file_cases import patch

TINY = dict(n_layers=2, n_embd=64, n_head=4, n_head_kv=2, n_ff=128, vocab_size=512)


def damaged_model(folder: Path, weight_type: str, tensor: str, fill: bytes) -> Path:
    """A synthetic model whose ``tensor`` data is overwritten with ``fill`` repeated; the
    data offset comes from gguf.GGUFReader, not from the code under test."""
    path = write_synthetic_model(folder / f"{weight_type}-{tensor}.gguf", SynthSpec(**TINY, weight_type=weight_type))
    info = next(t for t in gguf.GGUFReader(str(path)).tensors if t.name == tensor)
    n_bytes = int(info.n_bytes)
    patch(path, int(info.data_offset), (fill * (n_bytes // len(fill) + 1))[:n_bytes])
    return path


DAMAGE = {
    "nan-output-norm": ("F16", "output_norm.weight", np.float32(np.nan).tobytes()),
    "inf-attn-norm": ("F16", "blk.0.attn_norm.weight", np.float32(np.inf).tobytes()),
    "q4_0-all-ff": ("Q4_0", "blk.1.ffn_down.weight", b"\xff"),  # block scales fp16 0xFFFF = NaN
}



class FlakyModel:
    """The runtime contract without ``next_token_greedy``: finite logits favouring token 3,
    then NaN from decode step ``bad_step`` on (counted from the prefill's forward, step 0)."""

    def __init__(self, bad_step: int, n_vocab: int = 50):
        self.bad_step, self.n_vocab, self.n_ctx, self.steps = bad_step, n_vocab, 256, 0

    def reset(self):
        self.steps = 0

    def forward(self, tokens, start_pos, *, all_logits=False):
        logits = np.zeros(self.n_vocab, np.float32)
        logits[3] = 5.0
        if self.steps >= self.bad_step:
            logits[7] = np.nan
        self.steps += 1
        return logits
