"""The generation loop over a scripted model (the runtime contract, no weights): stop
reasons, stop strings across token boundaries, streaming, cancellation, context limits."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from tokenizer_support import write_vocab_gguf

from engine.diagnostics import DiagnosticError
from engine.generate import GenerationParams, StopScanner, generate
from engine.sampling import SamplerParams
from engine.synth_vocab import build_vocab
from engine.tokenizer import Tokenizer

GREEDY = SamplerParams.greedy()


class ScriptedModel:
    """Follows the LlamaModel contract; the logits after position q favour script[q + 1]."""

    def __init__(self, script, n_vocab, n_ctx=4096, end_token=0):
        self.script, self.n_vocab, self.n_ctx, self.end_token = list(script), n_vocab, n_ctx, end_token
        self.calls: list[tuple[int, int]] = []  # (start_pos, n_tokens)

    def reset(self):
        self.calls.clear()

    def forward(self, tokens, start_pos, *, all_logits=False):
        tokens = list(tokens)
        if start_pos + len(tokens) > self.n_ctx:
            raise ValueError("past the context")
        self.calls.append((start_pos, len(tokens)))
        last = start_pos + len(tokens) - 1
        nxt = self.script[last + 1] if last + 1 < len(self.script) else self.end_token
        logits = np.zeros(self.n_vocab, np.float32)
        logits[nxt] = 10.0
        return logits


@pytest.fixture(scope="module")
def tok(tmp_path_factory) -> Tokenizer:
    vocab = build_vocab("gpt2", 800, with_chat=True)
    return Tokenizer.from_gguf(write_vocab_gguf(tmp_path_factory.mktemp("g") / "g.gguf", vocab))


def byte_tokens(tok: Tokenizer, text: str) -> list[int]:
    """One token per byte: forces strings and characters to straddle token boundaries."""
    by_piece = {tok.token_piece(i): i for i in range(tok.n_vocab) if len(tok.token_piece(i)) == 1}
    return [by_piece[bytes([b])] for b in text.encode("utf-8")]


def run(tok, prompt_text, reply_ids, **kwargs):
    prompt = tok.encode(prompt_text)
    model = ScriptedModel(prompt + reply_ids, tok.n_vocab, kwargs.pop("n_ctx", 4096), end_token=tok.eos_id)
    chunks: list[str] = []
    params = GenerationParams(**{"sampler": GREEDY, **kwargs})
    result = generate(model, tok, prompt, params, on_text=chunks.append)
    return result, chunks, model


def test_follows_the_model_and_stops_at_eos(tok):
    reply = tok.encode(" the quick brown fox")
    result, chunks, _ = run(tok, "Once", reply, max_tokens=50)
    assert result.token_ids == tuple(reply)
    assert result.stop_reason == "eos" and result.n_generated == len(reply)
    assert result.text == "".join(chunks) == " the quick brown fox"
    assert result.n_prompt == len(tok.encode("Once"))


def test_length_limit(tok):
    reply = tok.encode(" the quick brown fox jumps over the lazy dog")
    result, _, _ = run(tok, "Once", reply, max_tokens=3)
    assert result.stop_reason == "length" and result.token_ids == tuple(reply[:3])


def test_eog_can_be_ignored(tok):
    reply = tok.encode(" a")
    result, _, _ = run(tok, "Once", reply, max_tokens=4, stop_at_eog=False)
    assert result.stop_reason == "length" and result.token_ids[len(reply)] == tok.eos_id


def test_stop_string_across_token_boundaries(tok):
    text = "Answer: yes.\nUser: more"
    result, chunks, _ = run(tok, "Q", byte_tokens(tok, text), max_tokens=100, stop=("\nUser:",))
    assert result.stop_reason == "stop"
    assert result.text == "".join(chunks) == "Answer: yes."
    assert not any("User" in c for c in chunks)


def test_earliest_of_several_stops_wins(tok):
    result, _, _ = run(tok, "Q", byte_tokens(tok, "abc STOP2 def STOP1"), max_tokens=100, stop=("STOP1", "STOP2"))
    assert result.text == "abc "


def test_partial_stop_match_is_released_when_it_fails(tok):
    text = "a <e <en <end> done"
    result, chunks, _ = run(tok, "Q", byte_tokens(tok, text), max_tokens=100, stop=("<end-of",))
    assert result.stop_reason == "eos" and result.text == "".join(chunks) == text


def test_streamed_text_is_valid_utf8(tok):
    text = "héllo 🤖 日本"
    result, chunks, _ = run(tok, "Q", byte_tokens(tok, text), max_tokens=100)
    assert all("\ufffd" not in c for c in chunks) and "".join(chunks) == text == result.text
    assert len(chunks) < len(text.encode("utf-8"))  # multi-byte characters came out whole


def test_cancel_between_tokens(tok):
    prompt = tok.encode("Q")
    model = ScriptedModel(prompt + byte_tokens(tok, "x" * 200), tok.n_vocab, end_token=tok.eos_id)
    cancel = threading.Event()
    seen: list[str] = []

    def on_text(text):
        seen.append(text)
        if len(seen) == 3:
            cancel.set()

    result = generate(model, tok, prompt, GenerationParams(max_tokens=200, sampler=GREEDY), on_text, cancel)
    assert result.stop_reason == "cancelled" and result.n_generated == 3


def test_generation_stops_at_the_context_limit(tok):
    prompt_text = "The quick"
    n_prompt = len(tok.encode(prompt_text))
    result, _, model = run(tok, prompt_text, byte_tokens(tok, "y" * 100), max_tokens=100, n_ctx=n_prompt + 6)
    assert result.stop_reason == "context"
    assert max(start + n for start, n in model.calls) == model.n_ctx  # every position used, none past
    assert result.n_generated == model.n_ctx - n_prompt + 1  # the last token needs no position


def test_prompt_too_long_is_a_diagnostic(tok):
    prompt = tok.encode("the " * 20)
    model = ScriptedModel(prompt, tok.n_vocab, n_ctx=len(prompt))
    with pytest.raises(DiagnosticError) as caught:
        generate(model, tok, prompt, GenerationParams(sampler=GREEDY))
    diag = caught.value.diagnostic
    assert diag.code == "QL-E-CONTEXT" and str(len(prompt)) in diag.detail and diag.technical["n_ctx"] == len(prompt)


def test_empty_prompt_is_a_diagnostic(tok):
    with pytest.raises(DiagnosticError):
        generate(ScriptedModel([], tok.n_vocab), tok, [], GenerationParams(sampler=GREEDY))


def test_prefill_runs_in_chunks(tok):
    prompt = [5] * 1100
    model = ScriptedModel(prompt + tok.encode(" a"), tok.n_vocab, end_token=tok.eos_id)
    generate(model, tok, prompt, GenerationParams(max_tokens=1, sampler=GREEDY, prefill_chunk=512))
    assert model.calls[:3] == [(0, 512), (512, 512), (1024, 76)]


def test_timings_are_reported(tok):
    result, _, _ = run(tok, "Once", tok.encode(" the fox"), max_tokens=10)
    t = result.timings
    assert t.n_prompt == result.n_prompt and t.n_generated == result.n_generated
    assert t.prefill_s >= 0 and t.decode_s >= 0 and t.tokens_per_s >= 0


def test_seeded_sampling_is_reproducible(tok):
    class FlatModel(ScriptedModel):
        def forward(self, tokens, start_pos, *, all_logits=False):
            super().forward(tokens, start_pos)
            return np.zeros(self.n_vocab, np.float32)  # uniform: every draw is random

    prompt = tok.encode("Q")
    params = GenerationParams(max_tokens=20, sampler=SamplerParams(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0),
                              seed=99, stop_at_eog=False)
    first = generate(FlatModel(prompt, tok.n_vocab), tok, prompt, params).token_ids
    second = generate(FlatModel(prompt, tok.n_vocab), tok, prompt, params).token_ids
    assert first == second and len(set(first)) > 5


def test_stop_scanner_holds_back_only_possible_prefixes():
    scanner = StopScanner(["###"])
    assert scanner.feed("ab#") == "ab"
    assert scanner.feed("c") == "#c"
    assert scanner.feed("##") == ""
    assert scanner.feed("#x") == "" and scanner.matched


class GreedyScriptedModel(ScriptedModel):
    """ScriptedModel that also offers next_token_greedy (as LlamaModel does), counting its calls."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.greedy_calls = 0

    def next_token_greedy(self, token, pos):
        self.greedy_calls += 1
        return int(np.argmax(self.forward([token], pos)))


@pytest.mark.parametrize("max_tokens", [1, 3, 50])
def test_greedy_decoding_takes_the_models_own_argmax_and_gives_the_same_text(tok, max_tokens):
    prompt, reply = tok.encode("Once"), tok.encode(" the quick brown fox")
    plain = ScriptedModel(prompt + reply, tok.n_vocab, end_token=tok.eos_id)
    greedy = GreedyScriptedModel(prompt + reply, tok.n_vocab, end_token=tok.eos_id)
    params = GenerationParams(sampler=GREEDY, max_tokens=max_tokens)
    want, got = generate(plain, tok, prompt, params), generate(greedy, tok, prompt, params)
    assert got.token_ids == want.token_ids and got.text == want.text and got.stop_reason == want.stop_reason
    assert greedy.calls == plain.calls  # the same steps at the same positions
    assert greedy.greedy_calls == len(plain.calls) - 1  # every decode step after the prefill


class StreamScriptedModel(GreedyScriptedModel):
    """GreedyScriptedModel with a greedy_tokens stream (as LlamaModel has), which runs one step
    ahead of the token it yields (as the chained GPU steps do) and records when it is closed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.streams, self.closed = 0, 0

    def greedy_tokens(self, token, pos):
        self.streams += 1
        try:
            ahead = self.next_token_greedy(token, pos)
            while True:
                token, ahead = ahead, self.next_token_greedy(ahead, pos + 1)
                yield token
                pos += 1
        finally:
            self.closed += 1


@pytest.mark.parametrize("max_tokens,stop", [(1, ()), (3, ()), (50, ()), (50, ("brown",))])
def test_greedy_decoding_uses_the_models_greedy_stream_and_closes_it(tok, max_tokens, stop):
    prompt, reply = tok.encode("Once"), tok.encode(" the quick brown fox")
    params = GenerationParams(sampler=GREEDY, max_tokens=max_tokens, stop=stop)
    want = generate(ScriptedModel(prompt + reply, tok.n_vocab, end_token=tok.eos_id), tok, prompt, params)
    model = StreamScriptedModel(prompt + reply, tok.n_vocab, end_token=tok.eos_id)
    got = generate(model, tok, prompt, params)
    assert got.token_ids == want.token_ids and got.text == want.text and got.stop_reason == want.stop_reason
    assert model.streams == (1 if max_tokens > 1 else 0)  # one stream for the whole decode
    assert model.closed == model.streams  # closed whether the decode ended by length, stop or EOS


@pytest.mark.parametrize("sampler", [SamplerParams(temperature=0.0, repetition_penalty=1.3), SamplerParams()])
def test_a_penalty_or_sampling_keeps_the_logits_on_the_host(tok, sampler):
    prompt, reply = tok.encode("Once"), tok.encode(" the quick brown fox")
    model = GreedyScriptedModel(prompt + reply, tok.n_vocab, end_token=tok.eos_id)
    generate(model, tok, prompt, GenerationParams(sampler=sampler, max_tokens=5, seed=1))
    assert model.greedy_calls == 0 and len(model.calls) > 1
