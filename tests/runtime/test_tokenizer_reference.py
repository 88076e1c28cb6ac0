"""The library-built encoders against plain reference algorithms, on generated text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tokenizer_support import reference_gpt2_encode, reference_spm_encode, write_vocab_gguf

from engine.synth_vocab import CORPUS, build_vocab
from engine.tokenizer import Tokenizer

WORDS = sorted(set(CORPUS.replace(".", " ").replace(",", " ").split()))
word_text = st.lists(
    st.one_of(st.sampled_from(WORDS), st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789 .,!?'\n\tXQZ", max_size=8)),
    max_size=12,
).map(" ".join)


@pytest.fixture(scope="module")
def gpt2_pair(tmp_path_factory):
    vocab = build_vocab("gpt2", 900)
    return vocab, Tokenizer.from_gguf(write_vocab_gguf(tmp_path_factory.mktemp("r") / "g.gguf", vocab))


@pytest.fixture(scope="module")
def spm_pair(tmp_path_factory):
    vocab = build_vocab("llama", 900)
    return vocab, Tokenizer.from_gguf(write_vocab_gguf(tmp_path_factory.mktemp("r") / "s.gguf", vocab))


@settings(max_examples=150, deadline=None)
@given(text=word_text)
def test_gpt2_encode_matches_reference_bpe(gpt2_pair, text):
    vocab, tok = gpt2_pair
    assert tok.encode(text, add_special=False) == reference_gpt2_encode(text, vocab.tokens, vocab.merges)


@settings(max_examples=150, deadline=None)
@given(text=word_text)
def test_spm_encode_matches_reference(spm_pair, text):
    vocab, tok = spm_pair
    expected = reference_spm_encode(text, vocab.tokens, vocab.scores, vocab.token_types)
    assert tok.encode(text, add_special=False) == expected
