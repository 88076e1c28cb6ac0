"""Text <-> token ids for a GGUF model, built from the file's own vocabulary.

Encoding runs through the ``tokenizers`` library (see ``engine.tokenizer_build``);
decoding maps every id to the bytes it stands for (byte-level characters for gpt2
vocabularies, "▁"/``<0xXX>`` pieces for SentencePiece ones), so a stream of ids can be
turned into text piece by piece without ever splitting a UTF-8 character
(:class:`IncrementalDetokenizer`).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.diagnostics import Diagnostic
from engine.tokenizer_build import build_hf_tokenizer
from engine.tokenizer_vocab import GGUFVocab, TokenType, read_vocab

# Texts of tokens that end a turn in common chat formats (llama.cpp marks them end-of-generation).
EOG_TEXTS = frozenset(
    {
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<EOT>",
        "<|end_of_text|>", "<|eom_id|>", "<｜end▁of▁sentence｜>", "<|return|>", "<|call|>",
    }
)  # fmt: skip


def _byte_level_decoder() -> dict[str, int]:
    """GPT-2's byte <-> printable character table, inverted: character -> byte."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars = list(printable)
    extra = 0
    for byte in range(256):
        if byte not in printable:
            printable.append(byte)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


def _gpt2_piece(text: str, table: dict[str, int]) -> bytes:
    if all(ch in table for ch in text):
        return bytes(table[ch] for ch in text)  # one byte per byte-level character
    return text.encode("utf-8")  # not byte-level text (e.g. a raw added token)


def _spm_piece(text: str, kind: int) -> bytes:
    if kind == TokenType.BYTE and len(text) == 6 and text.startswith("<0x"):
        return bytes([int(text[3:5], 16)])  # "<0xAB>" -> b"\xab"
    return text.replace("▁", " ").encode("utf-8")


def _piece_table(vocab: GGUFVocab) -> tuple[bytes, ...]:
    """The bytes each token stands for when printed (control tokens: their text)."""
    if vocab.model == "gpt2":
        table = _byte_level_decoder()
        pieces = []
        for text, kind in zip(vocab.tokens, vocab.token_types, strict=True):
            raw = kind in (TokenType.CONTROL, TokenType.USER_DEFINED, TokenType.UNKNOWN)
            pieces.append(text.encode("utf-8") if raw else _gpt2_piece(text, table))
        return tuple(pieces)
    return tuple(_spm_piece(t, k) for t, k in zip(vocab.tokens, vocab.token_types, strict=True))


def _eog_ids(vocab: GGUFVocab) -> frozenset[int]:
    marked = {vocab.eos_id, vocab.eot_id, vocab.eom_id} - {None}
    named = {
        i
        for i, (text, kind) in enumerate(zip(vocab.tokens, vocab.token_types, strict=True))
        if text in EOG_TEXTS and kind in (TokenType.CONTROL, TokenType.USER_DEFINED)
    }
    return frozenset(marked | named)


@dataclass(frozen=True)
class Tokenizer:
    vocab: GGUFVocab
    hf: Any  # tokenizers.Tokenizer
    pieces: tuple[bytes, ...]  # token id -> bytes it prints as
    skipped: frozenset[int]  # ids hidden by decode(skip_special=True): control/unknown tokens
    eog_ids: frozenset[int]  # ids that end generation (EOS, EOT, <|im_end|>, ...)
    warnings: tuple[Diagnostic, ...] = ()  # e.g. an unknown pre-tokenizer

    @classmethod
    def from_gguf(cls, source: Any) -> Tokenizer:
        """From a GGUF path, an open ``gguf.GGUFReader`` or a ``ModelInfo``."""
        return cls.from_vocab(read_vocab(source))

    @classmethod
    def from_vocab(cls, vocab: GGUFVocab) -> Tokenizer:
        hf, note = build_hf_tokenizer(vocab)
        skipped = frozenset(
            i for i, k in enumerate(vocab.token_types) if k in (TokenType.CONTROL, TokenType.UNKNOWN)
        )
        warnings = (note,) if note else ()
        return cls(vocab, hf, _piece_table(vocab), skipped, _eog_ids(vocab), warnings)

    @property
    def n_vocab(self) -> int:
        return len(self.vocab.tokens)

    @property
    def bos_id(self) -> int | None:
        return self.vocab.bos_id

    @property
    def eos_id(self) -> int | None:
        return self.vocab.eos_id

    @property
    def chat_template(self) -> str | None:
        return self.vocab.chat_template

    def token_text(self, token_id: int) -> str:
        """The token as stored in the vocabulary (e.g. "Ġthe", "▁the", "<|im_end|>")."""
        return self.vocab.tokens[token_id]

    def token_piece(self, token_id: int) -> bytes:
        """The bytes the token prints as (may be part of a UTF-8 character)."""
        return self.pieces[token_id]

    def encode(self, text: str, add_special: bool = True) -> list[int]:
        """Token ids of ``text``; special-token texts inside it become those tokens.
        ``add_special`` adds BOS/EOS where the file asks for them."""
        ids = list(self.hf.encode(text, add_special_tokens=False).ids)
        if add_special and self.vocab.add_bos and self.bos_id is not None:
            ids.insert(0, self.bos_id)
        if add_special and self.vocab.add_eos and self.eos_id is not None:
            ids.append(self.eos_id)
        return ids

    def decode_bytes(self, ids: Iterable[int], skip_special: bool = True) -> bytes:
        return b"".join(
            self.pieces[i] for i in ids if 0 <= i < self.n_vocab and not (skip_special and i in self.skipped)
        )

    def decode(self, ids: Sequence[int], skip_special: bool = True) -> str:
        """Text of ``ids``; invalid UTF-8 becomes U+FFFD. For SentencePiece files with a dummy
        prefix the one leading space that prefix introduced is removed."""
        text = self.decode_bytes(ids, skip_special).decode("utf-8", errors="replace")
        if self.vocab.model == "llama" and self.vocab.add_space_prefix and text.startswith(" "):
            return text[1:]
        return text

    def detokenizer(self, skip_special: bool = True) -> IncrementalDetokenizer:
        return IncrementalDetokenizer(self, skip_special)


class IncrementalDetokenizer:
    """Feeds token ids, returns the newly complete text; bytes of a UTF-8 character that has
    not finished yet are held back until the next token completes it."""

    def __init__(self, tokenizer: Tokenizer, skip_special: bool = True):
        self._tokenizer = tokenizer
        self._skip_special = skip_special
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def push(self, token_id: int) -> str:
        piece = self._tokenizer.decode_bytes((token_id,), self._skip_special)
        return self._decoder.decode(piece)

    def flush(self) -> str:
        """Whatever is still held back (broken bytes become U+FFFD)."""
        return self._decoder.decode(b"", final=True)
