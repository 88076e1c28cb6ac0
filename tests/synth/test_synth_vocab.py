"""The synthetic vocabularies are working tokenizers: loaded from the GGUF (via gguf.GGUFReader)
into the ``tokenizers`` library directly, they round-trip text and use their merges."""

from __future__ import annotations

import gguf
import pytest
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

from engine.synth import write_synthetic_model
from engine.synth_spec import CHATML_TEMPLATE, SynthSpec
from engine.synth_vocab import build_vocab, gpt2_byte_to_unicode

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "  leading spaces, trailing tab\t and\nnew lines\r\n",
    "Unicode: naïve café, Ελληνικά, 日本語, emoji 🦊🚀, math ∑∫.",
    "numbers 12345 67.89 and symbols !@#$%^&*()_+-=[]{}|;':\",./<>?",
    "",
]


def _fields(path) -> dict:
    reader = gguf.GGUFReader(str(path))
    return {key: field.contents() for key, field in reader.fields.items() if key.startswith("tokenizer.")}


def _gpt2_tokenizer(fields: dict) -> Tokenizer:
    vocab = {token: index for index, token in enumerate(fields["tokenizer.ggml.tokens"])}
    merges = [tuple(merge.split(" ")) for merge in fields["tokenizer.ggml.merges"]]
    tokenizer = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    specials = [t for t, kind in zip(fields["tokenizer.ggml.tokens"], fields["tokenizer.ggml.token_type"], strict=True)
                if kind == int(gguf.TokenType.CONTROL)]
    tokenizer.add_special_tokens(specials)
    return tokenizer


def _spm_tokenizer(fields: dict) -> Tokenizer:
    """The way Hugging Face converts a SentencePiece BPE vocabulary (merges from pieces + scores)."""
    tokens, scores = fields["tokenizer.ggml.tokens"], fields["tokenizer.ggml.scores"]
    vocab = {token: index for index, token in enumerate(tokens)}
    merges = []
    for piece, score in zip(tokens, scores, strict=True):
        for cut in range(1, len(piece)):
            if piece[:cut] in vocab and piece[cut:] in vocab:
                merges.append((score, vocab[piece], piece[:cut], piece[cut:]))
    merges.sort(key=lambda m: (-m[0], m[1]))
    model = models.BPE(vocab=vocab, merges=[(left, right) for _, _, left, right in merges],
                       unk_token="<unk>", byte_fallback=True, fuse_unk=True)
    tokenizer = Tokenizer(model)
    tokenizer.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tokenizer.decoder = decoders.Sequence(
        [decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(), decoders.Strip(" ", 1, 0)])
    return tokenizer


def _written_fields(tmp_path_factory, kind: str, vocab_size: int) -> dict:
    chat = CHATML_TEMPLATE if kind == "gpt2" else None
    spec = SynthSpec(n_layers=1, vocab_size=vocab_size, tokenizer=kind, chat_template=chat)
    return _fields(write_synthetic_model(tmp_path_factory.mktemp(kind) / "v.gguf", spec))


@pytest.fixture(scope="module", params=[260, 300, 2000])  # 260: bytes + specials + one merge
def gpt2_fields(request, tmp_path_factory):
    return _written_fields(tmp_path_factory, "gpt2", request.param)


@pytest.fixture(scope="module", params=[260, 300, 2000])
def spm_fields(request, tmp_path_factory):
    return _written_fields(tmp_path_factory, "llama", request.param)


@pytest.fixture(scope="module")
def gpt2_large(tmp_path_factory):
    return _written_fields(tmp_path_factory, "gpt2", 2000)


@pytest.fixture(scope="module")
def spm_large(tmp_path_factory):
    return _written_fields(tmp_path_factory, "llama", 2000)


@pytest.mark.parametrize("text", TEXTS)
def test_gpt2_round_trip(gpt2_fields, text):
    tokenizer = _gpt2_tokenizer(gpt2_fields)
    assert tokenizer.decode(tokenizer.encode(text).ids) == text


def test_gpt2_merges_build_english_pieces(gpt2_large):
    tokenizer = _gpt2_tokenizer(gpt2_large)
    text = "The capital of France is Paris, and the people worked in the fields."
    encoding = tokenizer.encode(text)
    assert len(encoding.ids) < len(text.encode()) * 0.6  # merges compress English
    assert "Ġthe" in encoding.tokens
    specials = tokenizer.encode("<|im_start|>user\nhi<|im_end|>")
    assert specials.ids[0] == 1 and specials.ids[-1] == 2


def test_gpt2_layout(gpt2_fields):
    tokens = gpt2_fields["tokenizer.ggml.tokens"]
    assert tokens[:3] == ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    assert tokens[3:259] == list(gpt2_byte_to_unicode().values())
    assert len(set(tokens)) == len(tokens)
    assert gpt2_fields["tokenizer.ggml.model"] == "gpt2" and gpt2_fields["tokenizer.ggml.eos_token_id"] == 2


@pytest.mark.parametrize("text", TEXTS)
def test_spm_round_trip(spm_fields, text):
    tokenizer = _spm_tokenizer(spm_fields)
    assert tokenizer.decode(tokenizer.encode(text).ids) == text


def test_spm_pieces_and_byte_fallback(spm_large):
    spm_fields = spm_large
    tokenizer = _spm_tokenizer(spm_fields)
    assert "▁the" in tokenizer.encode("the people").tokens
    assert "<0xE6>" in tokenizer.encode("日").tokens  # not in the vocabulary: UTF-8 bytes
    tokens, types = spm_fields["tokenizer.ggml.tokens"], spm_fields["tokenizer.ggml.token_type"]
    assert tokens[:3] == ["<unk>", "<s>", "</s>"] and tokens[3 + 0x41] == "<0x41>"
    assert types[3:259] == [int(gguf.TokenType.BYTE)] * 256
    assert spm_fields["tokenizer.ggml.add_bos_token"] is True


@pytest.mark.parametrize("kind", ["gpt2", "llama"])
def test_vocab_has_exact_size_and_unique_tokens(kind):
    for size in (260, 261, 1000, 40000):
        vocab = build_vocab(kind, size)
        known = set(vocab.tokens)
        assert len(vocab.tokens) == size == len(vocab.token_types) and len(known) == size
        for merge in vocab.merges:
            left, right = merge.split(" ")
            assert left in known and right in known and left + right in known
