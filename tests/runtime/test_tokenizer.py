"""Tokenizer: known answers on the demo model, round trips on the demo and both synthetic
vocabularies, SentencePiece against a plain reference, specials, streaming detokenizer."""

from __future__ import annotations

import pytest
from tokenizer_support import reference_spm_encode, write_vocab_gguf

from engine.demo import demo_model_path
from engine.diagnostics import DiagnosticError
from engine.synth_vocab import build_vocab
from engine.tokenizer import Tokenizer

VARIED_TEXTS = (
    "The capital of France is",
    "Hello  world!\n\n\n   indented\ttabbed  ",
    "héllo wörld — ça va? Ελληνικά, русский, 日本語のテキスト, 한국어",
    "emoji: 🤖👍🏽 👨‍👩‍👧 🇫🇷 and ☃",
    "digits 0 12 345 6789 3.14159 1,000,000 2024-11-25",
    "def f(x):\n    return x ** 2  # comment\n\nprint(f\"{f(3)=}\")\n",
    "  leading and trailing spaces  ",
    "it's they're we've I'm you'll he'd DON'T",
    "",
)


@pytest.fixture(scope="module")
def gpt2_synth(tmp_path_factory) -> Tokenizer:
    vocab = build_vocab("gpt2", 1200, with_chat=True)
    return Tokenizer.from_gguf(write_vocab_gguf(tmp_path_factory.mktemp("v") / "gpt2.gguf", vocab))


@pytest.fixture(scope="module")
def spm_vocab():
    return build_vocab("llama", 1000)


@pytest.fixture(scope="module")
def spm_synth(tmp_path_factory, spm_vocab) -> Tokenizer:
    return Tokenizer.from_gguf(write_vocab_gguf(tmp_path_factory.mktemp("v") / "spm.gguf", spm_vocab))


def test_demo_known_answer(demo_tokenizer):
    assert demo_tokenizer.encode("The capital of France is") == [504, 3575, 282, 4649, 314]
    assert demo_tokenizer.bos_id == 1 and demo_tokenizer.eos_id == 2
    assert demo_tokenizer.n_vocab == 49152


@pytest.mark.slow
def test_demo_sources_agree(demo_tokenizer):
    """A path, an open GGUFReader and a ModelInfo give the same vocabulary."""
    from gguf import GGUFReader

    from engine.model_file import inspect_model

    path = demo_model_path()
    assert Tokenizer.from_gguf(GGUFReader(str(path))).vocab == demo_tokenizer.vocab
    assert Tokenizer.from_gguf(inspect_model(path)).vocab == demo_tokenizer.vocab


def test_demo_digits_are_split_one_by_one(demo_tokenizer):
    """The smollm pre-tokenizer isolates every digit."""
    ids = demo_tokenizer.encode("12345")
    assert [demo_tokenizer.decode([i]) for i in ids] == list("12345")


@pytest.mark.parametrize("text", VARIED_TEXTS)
def test_demo_round_trip(demo_tokenizer, text):
    assert demo_tokenizer.decode(demo_tokenizer.encode(text)) == text


def test_demo_specials_matched_and_skipped(demo_tokenizer):
    ids = demo_tokenizer.encode("<|im_start|>user\nhi<|im_end|>")
    assert ids[0] == 1 and ids[-1] == 2  # <|im_start|>, <|im_end|> as single tokens
    assert demo_tokenizer.token_text(ids[0]) == "<|im_start|>"
    assert demo_tokenizer.decode(ids) == "user\nhi"
    assert demo_tokenizer.decode(ids, skip_special=False) == "<|im_start|>user\nhi<|im_end|>"
    assert {0, 2} <= demo_tokenizer.eog_ids  # <|endoftext|> and <|im_end|>
    assert 1 not in demo_tokenizer.eog_ids


@pytest.mark.parametrize("text", VARIED_TEXTS)
def test_gpt2_synthetic_round_trip(gpt2_synth, text):
    assert gpt2_synth.decode(gpt2_synth.encode(text)) == text


def test_gpt2_synthetic_uses_merges(gpt2_synth):
    """A frequent corpus word is fewer tokens than bytes, and the <|im_end|> eos ends generation."""
    assert len(gpt2_synth.encode(" the")) < len(b" the")
    assert gpt2_synth.eos_id in gpt2_synth.eog_ids


@pytest.mark.parametrize("text", VARIED_TEXTS)
def test_spm_synthetic_round_trip(spm_synth, text):
    ids = spm_synth.encode(text)
    assert ids[0] == spm_synth.bos_id  # add_bos from the file
    assert spm_synth.decode(ids) == text


@pytest.mark.parametrize(
    "text",
    ["The quick brown fox jumps over the lazy dog.", "What is the capital of France?", "people worked hard",
     "zebra 日本 ok", "Numbers like 2024 appear"],
)
def test_spm_matches_reference(spm_synth, spm_vocab, text):
    expected = reference_spm_encode(text, spm_vocab.tokens, spm_vocab.scores, spm_vocab.token_types)
    assert spm_synth.encode(text, add_special=False) == expected


def test_spm_byte_fallback_for_unknown_characters(spm_synth):
    ids = spm_synth.encode("日", add_special=False)
    pieces = [spm_synth.token_text(i) for i in ids]
    assert pieces[-3:] == ["<0xE6>", "<0x97>", "<0xA5>"]  # "日" is E6 97 A5 in UTF-8


def test_spm_without_space_prefix(tmp_path, spm_vocab):
    tok = Tokenizer.from_gguf(write_vocab_gguf(tmp_path / "s.gguf", spm_vocab, add_space_prefix=False))
    ids = tok.encode("the", add_special=False)
    assert not tok.token_text(ids[0]).startswith("▁")
    assert tok.decode(ids) == "the"


@pytest.mark.parametrize("pre", ["llama-bpe", "qwen2", "default", "gpt-4o", "falcon", "dbrx", "bloom"])
def test_known_pre_tokenizers_round_trip(tmp_path, pre):
    tok = Tokenizer.from_gguf(write_vocab_gguf(tmp_path / "p.gguf", build_vocab("gpt2", 600), pre=pre))
    assert tok.warnings == ()
    for text in VARIED_TEXTS:
        assert tok.decode(tok.encode(text)) == text


def test_llama3_splits_digits_in_threes(tmp_path):
    tok = Tokenizer.from_gguf(write_vocab_gguf(tmp_path / "p.gguf", build_vocab("gpt2", 600), pre="llama-bpe"))
    pieces = [piece for piece, _ in tok.hf.pre_tokenizer.pre_tokenize_str("1234567")]
    assert pieces == ["123", "456", "7"]


def test_unknown_pre_tokenizer_is_reported(tmp_path):
    tok = Tokenizer.from_gguf(write_vocab_gguf(tmp_path / "u.gguf", build_vocab("gpt2", 600), pre="no-such-pre"))
    assert [w.code for w in tok.warnings] == ["QL-W-PRETOKENIZER"]
    assert tok.decode(tok.encode("still works 123")) == "still works 123"


def test_unsupported_tokenizer_model_is_a_diagnostic(tmp_path):
    path = write_vocab_gguf(tmp_path / "b.gguf", build_vocab("gpt2", 600), model="bert")
    with pytest.raises(DiagnosticError) as caught:
        Tokenizer.from_gguf(path)
    assert caught.value.diagnostic.code == "QL-E-TOKENIZER"


def test_missing_file_is_a_diagnostic(tmp_path):
    with pytest.raises(DiagnosticError):
        Tokenizer.from_gguf(tmp_path / "nope.gguf")


def test_not_a_gguf_is_a_diagnostic(tmp_path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file at all" * 10)
    with pytest.raises(DiagnosticError):
        Tokenizer.from_gguf(bad)


@pytest.mark.parametrize("fraction", [0.0, 0.0002, 0.25, 0.5, 0.9])
def test_truncated_file_is_a_diagnostic(tmp_path, fraction):
    source = write_vocab_gguf(tmp_path / "whole.gguf", build_vocab("gpt2", 2000))
    data = source.read_bytes()
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(data[: int(len(data) * fraction)])  # the header (vocabulary, merges) ends early
    with pytest.raises(DiagnosticError):
        Tokenizer.from_gguf(cut)


@pytest.mark.parametrize("which", ["demo_tokenizer", "gpt2_synth", "spm_synth"])
def test_incremental_detokenizer_never_breaks_utf8(request, which):
    tok = request.getfixturevalue(which)
    text = "naïve café 🤖👍🏽 日本語 ok"
    ids = tok.encode(text, add_special=False)
    detok = tok.detokenizer()
    chunks = [detok.push(i) for i in ids] + [detok.flush()]
    assert all("\ufffd" not in chunk for chunk in chunks)
    joined = "".join(chunks)
    assert joined.lstrip(" ") == text  # SentencePiece streams keep the dummy-prefix space
    whole_bytes = [len(tok.token_piece(i)) for i in ids]
    assert sum(whole_bytes) == len(joined.encode("utf-8"))


def test_spm_specials_in_text_and_space_prefix_after_them(spm_synth):
    ids = spm_synth.encode("the</s>the", add_special=False)
    first = spm_synth.encode("the", add_special=False)
    assert ids == [*first, spm_synth.eos_id, *first]  # llama.cpp prefixes a space after a special too
    assert spm_synth.token_text(first[0]).startswith("▁")
    assert spm_synth.decode(ids, skip_special=False) == "the</s> the"
