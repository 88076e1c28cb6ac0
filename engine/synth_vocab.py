"""Working tokenizer vocabularies for synthetic models: GPT-2 byte-level BPE and SentencePiece.

Both are trained (a small, deterministic BPE) on an embedded English text, so their merges
build frequent English pieces, then padded to the requested size with further merged
pieces. Both load in the ``tokenizers`` library and round-trip any text:
  gpt2:  specials <|endoftext|> <|im_start|> <|im_end|> | 256 byte tokens (GPT-2 byte->unicode
         mapping) | merged pieces; ``merges`` holds "left right" strings.
  llama: <unk> <s> </s> | 256 <0xXX> byte tokens | single characters | "▁"-prefixed merged
         pieces; ``scores`` rank them (higher merges first), ``token_types`` mark each kind.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from gguf import TokenType

CORPUS = (
    "The quick brown fox jumps over the lazy dog. A model reads the text one token at a time, and then it "
    "writes the next word. When the weather is good, we like to walk in the park with our friends and talk "
    "about the things that matter to us. There are many ways to learn a language: you can read books, listen "
    "to people, and practice every day. This is the story of a small town by the river, where the people "
    "worked hard and the children played in the fields until the evening came. Please answer the question "
    "in a short and clear way, and explain what you think about it. The system should never crash, because "
    "users expect their computers to work. In the morning she made coffee, opened the window and looked at "
    "the mountains. What is the capital of France? The capital of France is Paris, a city known for its art, "
    "food and history. We have been working on this project for three years, and we are proud of the results. "
    "It was the best of times, it was the worst of times; it was the age of wisdom and of information. "
    "Numbers like 1, 2, 3, 10, 100 and 2024 appear in text as well as names, places and dates. "
    "Hello world! How are you today? I am fine, thank you. Let me know if you need anything else."
)
GPT2_SPECIALS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")
SPM_SPECIALS = ("<unk>", "<s>", "</s>")
SPM_SPACE = "\u2581"  # "▁", SentencePiece's word-boundary mark
MAX_TRAINED_MERGES = 300  # beyond this, padding merges (cheap) fill the vocabulary
_WORD_PATTERN = re.compile(r" ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+")  # GPT-2 split, ASCII only


@dataclass(frozen=True)
class SynthVocab:
    model: str  # tokenizer.ggml.model: "gpt2" | "llama"
    pre: str  # tokenizer.ggml.pre
    tokens: tuple[str, ...]
    token_types: tuple[int, ...]  # gguf.TokenType values
    scores: tuple[float, ...]  # empty for gpt2
    merges: tuple[str, ...]  # "left right"; empty for llama
    bos_id: int
    eos_id: int
    unk_id: int | None
    add_bos: bool


def min_vocab_size(kind: str) -> int:
    return (len(GPT2_SPECIALS) if kind == "gpt2" else len(SPM_SPECIALS)) + 256 + 1


def gpt2_byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character mapping (256 entries)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for byte in range(256):
        if byte not in mapping:
            mapping[byte] = chr(256 + extra)
            extra += 1
    return dict(sorted(mapping.items()))


def train_bpe(words: Counter, n_merges: int) -> list[tuple[str, str]]:
    """Greedy BPE on ``words`` (tuple of symbols -> count): the most frequent pair merges first."""
    symbols = [list(word) for word in words]
    counts = list(words.values())
    merges: list[tuple[str, str]] = []
    for _ in range(n_merges):
        pairs: Counter = Counter()
        for word, count in zip(symbols, counts, strict=True):
            for pair in zip(word, word[1:], strict=False):
                pairs[pair] += count
        if not pairs:
            break
        best = max(pairs, key=lambda pair: (pairs[pair], pair))  # ties: the larger pair, deterministic
        merges.append(best)
        for word in symbols:
            _apply_merge(word, best)
    return merges


def _apply_merge(word: list[str], pair: tuple[str, str]) -> None:
    index = 0
    while index < len(word) - 1:
        if word[index] == pair[0] and word[index + 1] == pair[1]:
            word[index : index + 2] = [pair[0] + pair[1]]  # two symbols -> one
        index += 1


def _grow(tokens: list[str], known: set[str], merges: list[tuple[str, str]], target: int, alphabet: list[str]) -> None:
    """Add merged tokens until ``len(tokens) == target``: trained merges first, then padding ones.

    Padding merges extend the merged pieces made so far (oldest first) by one alphabet symbol,
    so every padding token is reachable through merges of tokens already in the vocabulary.
    """
    grown: list[str] = []
    for left, right in merges:
        if len(tokens) >= target:
            return
        if _add_token(tokens, known, left + right):
            grown.append(left + right)
    index = 0
    while len(tokens) < target:
        left = grown[index] if index < len(grown) else alphabet[index % len(alphabet)]
        for right in alphabet:
            if len(tokens) >= target:
                break
            if _add_token(tokens, known, left + right):
                merges.append((left, right))
                grown.append(left + right)
        index += 1


def _add_token(tokens: list[str], known: set[str], token: str) -> bool:
    if token in known:
        return False
    known.add(token)
    tokens.append(token)
    return True


def gpt2_vocab(vocab_size: int, with_chat: bool) -> SynthVocab:
    byte_chars = gpt2_byte_to_unicode()
    words = Counter(tuple(byte_chars[b] for b in piece.encode("utf-8")) for piece in _WORD_PATTERN.findall(CORPUS))
    merges = train_bpe(words, min(MAX_TRAINED_MERGES, vocab_size))
    tokens = [*GPT2_SPECIALS, *byte_chars.values()]
    known = set(tokens)
    alphabet = [byte_chars[b] for b in b"etaoinsrhldcum "]
    _grow(tokens, known, merges, vocab_size, alphabet)
    merges = _merges_present(merges, known)
    types = [int(TokenType.CONTROL)] * len(GPT2_SPECIALS) + [int(TokenType.NORMAL)] * (len(tokens) - len(GPT2_SPECIALS))
    eos = GPT2_SPECIALS.index("<|im_end|>") if with_chat else 0
    return SynthVocab("gpt2", "gpt-2", tuple(tokens), tuple(types), (), tuple(f"{a} {b}" for a, b in merges), 0, eos, None, False)


def _merges_present(merges: list[tuple[str, str]], known: set[str]) -> list[tuple[str, str]]:
    """Only merges whose result made it into the (possibly small) vocabulary."""
    out, seen = [], set()
    for left, right in merges:
        if left + right in known and left in known and right in known and (left, right) not in seen:
            seen.add((left, right))
            out.append((left, right))
    return out


def spm_vocab(vocab_size: int) -> SynthVocab:
    words = Counter(tuple(SPM_SPACE + word) for word in CORPUS.split())
    char_counts = Counter(ch for word, count in words.items() for ch in word for _ in range(count))
    chars = sorted(char_counts, key=lambda ch: (ch != SPM_SPACE, -char_counts[ch], ch))  # "▁" first, then by frequency
    merges = train_bpe(words, min(MAX_TRAINED_MERGES, vocab_size))
    tokens = [*SPM_SPECIALS, *(f"<0x{b:02X}>" for b in range(256))]
    chars = chars[: max(0, vocab_size - len(tokens))]
    tokens += chars
    known = set(tokens)
    _grow(tokens, known, merges, vocab_size, [c for c in "etaoinsrhldcum" if c in known] or chars)
    n_fixed = len(SPM_SPECIALS) + 256
    types = [int(TokenType.UNKNOWN), int(TokenType.CONTROL), int(TokenType.CONTROL)]
    types += [int(TokenType.BYTE)] * 256 + [int(TokenType.NORMAL)] * (len(tokens) - n_fixed)
    n_chars = len(chars)
    scores = [0.0] * n_fixed + [-1e6 - i for i in range(n_chars)]  # single characters rank last
    scores += [-float(rank) for rank in range(len(tokens) - n_fixed - n_chars)]  # earlier merges rank higher
    return SynthVocab("llama", "default", tuple(tokens), tuple(types), tuple(scores), (), 1, 2, 0, True)


def build_vocab(kind: str, vocab_size: int, with_chat: bool = False) -> SynthVocab:
    """A vocabulary of exactly ``vocab_size`` tokens; ``kind`` is "gpt2" or "llama"."""
    if vocab_size < min_vocab_size(kind):
        raise ValueError(f"vocab_size {vocab_size} is too small for a {kind} vocabulary (minimum {min_vocab_size(kind)})")
    vocab = gpt2_vocab(vocab_size, with_chat) if kind == "gpt2" else spm_vocab(vocab_size)
    if len(vocab.tokens) != vocab_size:
        raise ValueError(f"{kind} vocabulary came out with {len(vocab.tokens)} tokens instead of {vocab_size}")
    return vocab
