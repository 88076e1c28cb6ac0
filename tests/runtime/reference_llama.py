"""An independent float64 llama reference for tests (no code shared with engine.model).

Reads the GGUF with gguf.GGUFReader, dequantizes with gguf.quants.dequantize and runs the
graph with plain loops and einsum in float64. Deliberately simple: one token position at
a time is never cached; each call recomputes the whole prompt.
"""

from __future__ import annotations

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize


def _field(reader: GGUFReader, key: str, default=None):
    field = reader.fields.get(key)
    return default if field is None else field.contents()


class ReferenceLlama:
    def __init__(self, path, *, neox: bool = False):
        reader = GGUFReader(path)
        arch = _field(reader, "general.architecture")
        self.n_layers = int(_field(reader, f"{arch}.block_count"))
        self.n_head = int(_field(reader, f"{arch}.attention.head_count"))
        self.n_head_kv = int(_field(reader, f"{arch}.attention.head_count_kv", self.n_head))
        self.eps = float(_field(reader, f"{arch}.attention.layer_norm_rms_epsilon"))
        self.base = float(_field(reader, f"{arch}.rope.freq_base", 10000.0))
        scaling = _field(reader, f"{arch}.rope.scaling.type", "linear")  # llama.cpp: unspecified = linear
        factor = float(_field(reader, f"{arch}.rope.scaling.factor", 1.0))
        self.pos_scale = factor if scaling == "linear" else 1.0
        self.neox = neox
        self.w = {}
        for t in reader.tensors:
            # gguf returns (ne1, ne0) = (rows, row_len) for matrices
            self.w[t.name] = dequantize(t.data, t.tensor_type).astype(np.float64).reshape(
                tuple(int(d) for d in reversed(t.shape.tolist())))
        self.n_embd = self.w["token_embd.weight"].shape[1]
        self.head_dim = self.w["blk.0.attn_q.weight"].shape[0] // self.n_head
        self.rope_dim = int(_field(reader, f"{arch}.rope.dimension_count", self.head_dim))

    def _norm(self, x, weight):
        out = np.empty_like(x)
        for t in range(x.shape[0]):
            out[t] = x[t] / np.sqrt(np.mean(x[t] ** 2) + self.eps) * weight
        return out

    def _rotate(self, vec, position):
        """vec: one head (head_dim,), rotated in place by position."""
        half = self.rope_dim // 2
        for i in range(half):
            theta = (position / self.pos_scale) * self.base ** (-2.0 * i / self.rope_dim)
            a, b = (i, i + half) if self.neox else (2 * i, 2 * i + 1)
            x0, x1 = vec[a], vec[b]
            vec[a] = x0 * np.cos(theta) - x1 * np.sin(theta)
            vec[b] = x0 * np.sin(theta) + x1 * np.cos(theta)

    def _attention(self, q, k, v):
        n_tok, d = q.shape[0], self.head_dim
        out = np.zeros((n_tok, self.n_head * d))
        group = self.n_head // self.n_head_kv
        for h in range(self.n_head):
            kv = h // group
            for t in range(n_tok):
                qv = q[t, h * d : (h + 1) * d]
                keys = k[: t + 1, kv * d : (kv + 1) * d]
                scores = keys @ qv / np.sqrt(d)
                p = np.exp(scores - scores.max())
                p /= p.sum()
                out[t, h * d : (h + 1) * d] = p @ v[: t + 1, kv * d : (kv + 1) * d]
        return out

    def logits(self, tokens) -> np.ndarray:
        """(T, n_vocab) float64 logits for the whole prompt starting at position 0."""
        x = self.w["token_embd.weight"][np.asarray(tokens)]
        for layer in range(self.n_layers):
            p = f"blk.{layer}."
            h = self._norm(x, self.w[p + "attn_norm.weight"])
            q = h @ self.w[p + "attn_q.weight"].T
            k = h @ self.w[p + "attn_k.weight"].T
            v = h @ self.w[p + "attn_v.weight"].T
            d = self.head_dim
            for t in range(len(tokens)):
                for head in range(self.n_head):
                    self._rotate(q[t, head * d : (head + 1) * d], t)
                for head in range(self.n_head_kv):
                    self._rotate(k[t, head * d : (head + 1) * d], t)
            x = x + self._attention(q, k, v) @ self.w[p + "attn_output.weight"].T
            h = self._norm(x, self.w[p + "ffn_norm.weight"])
            gate = h @ self.w[p + "ffn_gate.weight"].T
            up = h @ self.w[p + "ffn_up.weight"].T
            x = x + (gate / (1.0 + np.exp(-gate)) * up) @ self.w[p + "ffn_down.weight"].T
        h = self._norm(x, self.w["output_norm.weight"])
        head = self.w.get("output.weight", self.w["token_embd.weight"])
        return h @ head.T
