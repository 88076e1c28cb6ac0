"""Test helpers for the tokenizer area: tiny GGUF files holding only a vocabulary, and a
plain reference of SentencePiece's score-driven BPE (llama.cpp's llm_tokenizer_spm)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFWriter

from engine.synth import add_vocab_keys


def write_vocab_gguf(path: Path, vocab, *, pre: str | None = None, model: str | None = None,
                     chat_template: str | None = None, add_space_prefix: bool | None = None) -> Path:
    """A GGUF file with the tokenizer.* keys of ``vocab`` (an engine.synth_vocab.SynthVocab)."""
    writer = GGUFWriter(str(path), "llama")
    if add_space_prefix is not None:
        writer.add_add_space_prefix(add_space_prefix)
    add_vocab_keys(writer, vocab, chat_template, model=model, pre=pre)
    writer.add_tensor("dummy", np.zeros(4, dtype=np.float32))  # (4,) a GGUF with no tensors is fine too
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def reference_spm_encode(text: str, tokens: tuple[str, ...], scores: tuple[float, ...], types: tuple[int, ...],
                         add_space_prefix: bool = True) -> list[int]:
    """Characters first; repeatedly merge the adjacent pair whose joined text is a normal token
    with the highest score (leftmost on ties); unknown characters fall back to <0xXX> bytes."""
    if not text:
        return []  # llama.cpp tokenizes no fragment for empty text
    table = {}
    for index, tok in enumerate(tokens):
        if types[index] in (1, 4):  # NORMAL, USER_DEFINED
            table.setdefault(tok, index)
    text = ("▁" if add_space_prefix else "") + text.replace(" ", "▁")
    symbols = list(text)
    while True:
        best = None
        for i in range(len(symbols) - 1):
            joined = symbols[i] + symbols[i + 1]
            if joined in table and (best is None or scores[table[joined]] > scores[table[best[1]]]):
                best = (i, joined)
        if best is None:
            break
        i, joined = best
        symbols[i : i + 2] = [joined]
    byte_ids = {tok: i for i, tok in enumerate(tokens) if types[i] == 6}
    ids = []
    for sym in symbols:
        if sym in table:
            ids.append(table[sym])
        else:
            ids.extend(byte_ids[f"<0x{b:02X}>"] for b in sym.encode("utf-8"))
    return ids


GPT2_ASCII_SPLIT = r"'s|'t|'re|'ve|'m|'ll|'d| ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+(?!\S)|\s+"


def reference_gpt2_encode(text: str, tokens: tuple[str, ...], merges: tuple[str, ...]) -> list[int]:
    """ASCII text only: split with GPT-2's pattern, map bytes to GPT-2's printable characters,
    then apply merges lowest rank first (leftmost on ties) inside each piece."""
    import re

    from engine.synth_vocab import gpt2_byte_to_unicode

    byte_chars = gpt2_byte_to_unicode()
    rank = {tuple(m.split(" ", 1)): i for i, m in enumerate(merges)}
    table = {}
    for index, tok in enumerate(tokens):
        table.setdefault(tok, index)
    ids = []
    for piece in re.findall(GPT2_ASCII_SPLIT, text):
        symbols = [byte_chars[b] for b in piece.encode("utf-8")]
        while len(symbols) > 1:
            pairs = [(rank.get((a, b), 1 << 60), i) for i, (a, b) in enumerate(zip(symbols, symbols[1:], strict=False))]
            best_rank, i = min(pairs)
            if best_rank == 1 << 60:
                break
            symbols[i : i + 2] = [symbols[i] + symbols[i + 1]]  # merge the pair at i
        ids.extend(table[s] for s in symbols)
    return ids
