"""Build a ``tokenizers.Tokenizer`` from a GGUF vocabulary (the library does the BPE work).

* ``gpt2`` vocabularies: byte-level BPE with the file's merges, split first by the
  pre-tokenizer regexes named by ``tokenizer.ggml.pre`` (the same table as llama.cpp).
* ``llama`` (SentencePiece) vocabularies: BPE whose merges are derived from the token scores
  (a merge ranks by the score of the token it makes), byte fallback through ``<0xXX>``
  tokens, spaces as "▁", and the dummy space prefix when the file asks for it.

Control and user-defined tokens become added tokens, so they are matched in the text as
whole tokens before the model runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from tokenizers import AddedToken, Regex, normalizers, pre_tokenizers
from tokenizers import Tokenizer as HFTokenizer
from tokenizers.models import BPE

from engine.diagnostics import Diagnostic, DiagnosticError, error, warning
from engine.tokenizer_vocab import GGUFVocab, TokenType

_GPT2 = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)"
_LLAMA3 = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_QWEN2 = (
    r"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_DBRX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}"
    r"| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
_GPT4O = (
    r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    r"|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?"
    r"|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)


@dataclass(frozen=True)
class PreTokenizerRule:
    regexes: tuple[str, ...]  # applied in order, each splitting the pieces of the previous
    ignore_merges: bool = False  # a whole pre-token found in the vocabulary is one token


_DEFAULT_RULE = PreTokenizerRule((r"[\p{P}\$\+<=>\^~\|]+", _GPT2, r"\p{N}+", "[0-9][0-9][0-9]"))
_GPT2_RULE = PreTokenizerRule((_GPT2,))
_DIGIT_RULE = PreTokenizerRule((r"\p{N}", _GPT2))
_LLAMA3_RULE = PreTokenizerRule((_LLAMA3,), ignore_merges=True)

# tokenizer.ggml.pre name -> rule (the names llama.cpp's converter writes).
PRE_TOKENIZER_RULES: dict[str, PreTokenizerRule] = {
    "default": _DEFAULT_RULE,
    **dict.fromkeys(("llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"), _LLAMA3_RULE),
    **dict.fromkeys(
        ("gpt-2", "gpt2", "phi-2", "mpt", "olmo", "jais", "roberta-bpe", "jina-es", "jina-de"), _GPT2_RULE
    ),
    **dict.fromkeys(
        ("smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b"), _DIGIT_RULE
    ),
    **dict.fromkeys(("qwen2", "stablelm2", "deepseek-r1-qwen"), PreTokenizerRule((_QWEN2,))),
    **dict.fromkeys(("dbrx", "smaug-bpe"), PreTokenizerRule((_DBRX,))),
    **dict.fromkeys(("gpt-4o", "llama4"), PreTokenizerRule((_GPT4O,))),
    "falcon": PreTokenizerRule((r"[\p{P}\$\+<=>\^~\|`]+", _GPT2, "[0-9][0-9][0-9]")),
    **dict.fromkeys(("bloom", "gpt3-finnish", "poro-chat"), PreTokenizerRule((r" ?[^(\s|.,!?…。，、।۔،)]+",))),
}
UNKNOWN_PRE_FALLBACK = "gpt-2"


def pre_tokenizer_rule(pre: str) -> tuple[PreTokenizerRule, Diagnostic | None]:
    """The rule for a tokenizer.ggml.pre name, and a warning when the name is not known."""
    if pre in PRE_TOKENIZER_RULES:
        return PRE_TOKENIZER_RULES[pre], None
    shown = pre or "(missing)"
    note = warning(
        "QL-W-PRETOKENIZER",
        "Unknown pre-tokenizer; using the GPT-2 rules",
        f"The model names pre-tokenizer {shown!r}, which this engine does not know. Text is split "
        "with the plain GPT-2 rules; tokens may differ slightly from the original tokenizer.",
        pre=pre,
    )
    return PRE_TOKENIZER_RULES[UNKNOWN_PRE_FALLBACK], note


def _added_tokens(vocab: GGUFVocab) -> list[AddedToken]:
    """Control tokens as specials; user-defined tokens as plain added tokens (both matched whole)."""
    added = []
    for token_id, (text, kind) in enumerate(zip(vocab.tokens, vocab.token_types, strict=True)):
        if kind == TokenType.CONTROL or (kind == TokenType.UNKNOWN and token_id == vocab.unk_id):
            added.append(AddedToken(text, special=True, normalized=False))
        elif kind == TokenType.USER_DEFINED and text:
            added.append(AddedToken(text, special=False, normalized=False))
    return added


def _vocab_dict(vocab: GGUFVocab) -> dict[str, int]:
    """token text -> id; on duplicate texts the first id wins (as in llama.cpp)."""
    table: dict[str, int] = {}
    for token_id, text in enumerate(vocab.tokens):
        table.setdefault(text, token_id)
    return table


def _split_merges(merges: tuple[str, ...]) -> list[tuple[str, str]]:
    pairs = []
    for merge in merges:
        left, sep, right = merge.partition(" ")  # "left right"
        if sep:
            pairs.append((left, right))
    return pairs


def build_gpt2(vocab: GGUFVocab) -> tuple[HFTokenizer, Diagnostic | None]:
    rule, note = pre_tokenizer_rule(vocab.pre)
    model = BPE(
        vocab=_vocab_dict(vocab),
        merges=_split_merges(vocab.merges),
        ignore_merges=rule.ignore_merges,
    )
    tokenizer = HFTokenizer(model)
    splits = [pre_tokenizers.Split(Regex(rx), behavior="isolated") for rx in rule.regexes]
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence([*splits, byte_level])
    tokenizer.add_tokens(_added_tokens(vocab))
    return tokenizer, note


def spm_merges(vocab: GGUFVocab) -> list[tuple[str, str]]:
    """Merges implied by SentencePiece scores: every split of a normal token into two tokens,
    ranked by the merged token's score (higher first), then by its id."""
    table = _vocab_dict(vocab)
    scores = vocab.scores or tuple(-float(i) for i in range(len(vocab.tokens)))
    ranked = []
    for token_id, (text, kind) in enumerate(zip(vocab.tokens, vocab.token_types, strict=True)):
        if kind not in (TokenType.NORMAL, TokenType.USER_DEFINED) or len(text) < 2:
            continue
        for cut in range(1, len(text)):
            left, right = text[:cut], text[cut:]  # two halves of the token's characters
            if left in table and right in table:
                ranked.append((-scores[token_id], token_id, left, right))
    ranked.sort()
    return [(left, right) for _, _, left, right in ranked]


def build_spm(vocab: GGUFVocab) -> tuple[HFTokenizer, Diagnostic | None]:
    unk = vocab.tokens[vocab.unk_id] if vocab.unk_id is not None else None
    model = BPE(
        vocab=_vocab_dict(vocab), merges=spm_merges(vocab), unk_token=unk, fuse_unk=True, byte_fallback=True
    )
    tokenizer = HFTokenizer(model)
    steps = [normalizers.Prepend("▁")] if vocab.add_space_prefix else []
    tokenizer.normalizer = normalizers.Sequence([*steps, normalizers.Replace(" ", "▁")])
    tokenizer.add_tokens(_added_tokens(vocab))
    return tokenizer, None


def build_hf_tokenizer(vocab: GGUFVocab) -> tuple[HFTokenizer, Diagnostic | None]:
    if vocab.model == "gpt2":
        return build_gpt2(vocab)
    if vocab.model == "llama":
        return build_spm(vocab)
    raise DiagnosticError(
        error(
            "QL-E-TOKENIZER",
            f"Tokenizer type not supported yet: {vocab.model}",
            "This engine reads byte-level BPE ('gpt2') and SentencePiece ('llama') vocabularies. "
            "Choose a model converted with one of those.",
            tokenizer_model=vocab.model,
        )
    )
