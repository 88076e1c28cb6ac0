"""The generation loop: prefill -> decode_one_token -> decode_n_tokens (gpt-fast's shape).

Works over any model with the runtime contract (``engine.model.LlamaModel``):
``reset()``, ``forward(tokens, start_pos, all_logits=False) -> (n_vocab,)`` logits, ``n_ctx``;
greedy decoding without a repetition penalty takes the model's own greedy tokens where it has
them: the stream ``greedy_tokens(token, pos)`` (on one GPU its steps chain on the device), else
one ``next_token_greedy(token, pos) -> int`` per token (the argmax on the GPU of the output head).
Text is streamed through ``on_text`` as it becomes final: never a broken UTF-8 character,
never a stop string (a possible partial match is held back until it is decided).
Logits that reach the host are checked to be finite (QL-E-MODEL-NAN on damaged weights); the
model's own greedy tokens come without logits, and NOT_FINITE_TOKEN among them (the argmax found
a NaN or an infinity, engine/sampling.py greedy_token) is the same error.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.diagnostics import DiagnosticError, Remedy, error
from engine.sampling import NOT_FINITE_TOKEN, SamplerParams, make_rng, sample

STOP_REASONS = ("eos", "stop", "length", "cancelled", "context")


@dataclass(frozen=True)
class GenerationParams:
    max_tokens: int = 256
    stop: tuple[str, ...] = ()  # stop strings; the text ends before the first one found
    sampler: SamplerParams = field(default_factory=SamplerParams)
    seed: int | None = None  # None or negative: random
    prefill_chunk: int = 512  # prompt tokens per model.forward call
    stop_at_eog: bool = True  # False: end-of-generation tokens are kept like any other


@dataclass(frozen=True)
class GenerationTimings:
    prefill_s: float
    decode_s: float
    n_prompt: int
    n_generated: int

    @property
    def prefill_tokens_per_s(self) -> float:
        return self.n_prompt / self.prefill_s if self.prefill_s > 0 else 0.0

    @property
    def tokens_per_s(self) -> float:
        """Decode speed."""
        return self.n_generated / self.decode_s if self.decode_s > 0 else 0.0


@dataclass(frozen=True)
class GenerationResult:
    text: str  # the generated text, without a matched stop string
    token_ids: tuple[int, ...]  # generated tokens (an ending EOS/EOT token is not included)
    n_prompt: int
    n_generated: int
    stop_reason: str  # one of STOP_REASONS
    timings: GenerationTimings


class StopScanner:
    """Releases text once it cannot be the start of a stop string."""

    def __init__(self, stops: Sequence[str]):
        self._stops = tuple(s for s in stops if s)
        self._pending = ""
        self.matched = False

    def feed(self, text: str) -> str:
        """Text now safe to show. After a stop string is found, sets ``matched`` and returns
        what came before it; everything later is dropped."""
        self._pending += text
        hits = [i for i in (self._pending.find(s) for s in self._stops) if i >= 0]
        if hits:
            self.matched = True
            safe, self._pending = self._pending[: min(hits)], ""  # text before the earliest stop
            return safe
        held = self._partial_suffix_length()
        cut = len(self._pending) - held
        safe, self._pending = self._pending[:cut], self._pending[cut:]  # [shown | maybe a stop]
        return safe

    def flush(self) -> str:
        rest, self._pending = self._pending, ""
        return rest

    def _partial_suffix_length(self) -> int:
        """Length of the longest end of the pending text that begins some stop string."""
        best = 0
        for stop in self._stops:
            for size in range(min(len(stop) - 1, len(self._pending)), best, -1):
                if self._pending.endswith(stop[:size]):
                    best = size
                    break
        return best


def check_prompt(prompt_ids: Sequence[int], n_ctx: int) -> None:
    if not prompt_ids:
        raise DiagnosticError(
            error("QL-E-PROMPT-EMPTY", "The prompt is empty", "Give at least one token of prompt text.")
        )
    if len(prompt_ids) >= n_ctx:
        raise DiagnosticError(
            error(
                "QL-E-CONTEXT",
                "The prompt does not fit the context",
                f"The prompt has {len(prompt_ids)} tokens but the context holds {n_ctx}, and at least one "
                "more position is needed to generate. Shorten the prompt or load the model with a larger context.",
                Remedy("reduce_context", "Use a larger context size", {"n": len(prompt_ids) + 256}),
                n_prompt=len(prompt_ids),
                n_ctx=n_ctx,
            )
        )


def model_file_label(model: Any) -> str:
    """The model's file path for messages (LlamaModel.info.path), else a generic phrase."""
    path = getattr(getattr(model, "info", None), "path", None)
    return str(path) if path else "the loaded model"


def check_logits(model: Any, logits: np.ndarray) -> np.ndarray:
    """``logits`` (host array, any shape) if every value is finite, else QL-E-MODEL-NAN: NaN or
    infinity comes from damaged weights (a NaN norm weight, a block scale of all-0xFF bytes)."""
    if not np.isfinite(logits).all():
        raise model_nan_error(model)
    return logits


def model_nan_error(model: Any) -> DiagnosticError:
    """QL-E-MODEL-NAN: the model's logits were not finite (NaN or infinity)."""
    where = model_file_label(model)
    return DiagnosticError(
        error(
            "QL-E-MODEL-NAN",
            "The model computed invalid numbers",
            f"The model computed invalid numbers (NaN or infinity); its weights are probably damaged. "
            f"Model file: {where}. Download the file again or choose another model file.",
            Remedy("choose_other_file", "Choose another model file"),
            path=where,
        )
    )


def checked_forward(model: Any, tokens: Sequence[int], start_pos: int, *, all_logits: bool = False) -> np.ndarray:
    """``model.forward`` as a host array, checked by :func:`check_logits`; NumPy's warnings about
    the invalid values on the way are silenced (the diagnostic says it in plain words)."""
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        logits = np.asarray(model.forward(tokens, start_pos, all_logits=all_logits) if all_logits
                            else model.forward(tokens, start_pos))
    return check_logits(model, logits)


def prefill(model: Any, prompt_ids: Sequence[int], chunk: int,
            cancel: threading.Event | None = None) -> np.ndarray | None:
    """Run the prompt from position 0 in chunks; the logits (n_vocab,) after its last token,
    or None when ``cancel`` was set (checked before each chunk)."""
    model.reset()
    logits = None
    for start in range(0, len(prompt_ids), max(1, chunk)):
        if cancel is not None and cancel.is_set():
            return None
        part = list(prompt_ids[start : start + chunk])  # (chunk,) tokens at positions start..
        logits = checked_forward(model, part, start)  # (n_vocab,) on the host
    return logits


def decode_one_token(model: Any, token: int, pos: int) -> np.ndarray:
    return checked_forward(model, [token], pos)  # (n_vocab,)


def greedy_on_model(model: Any, sampler: SamplerParams) -> bool:
    """Whether the next tokens can come from the model's own greedy choice (the same tokens as
    ``sample`` on the logits: greedy, no repetition penalty), without the logits on the host."""
    return sampler.is_greedy and sampler.repetition_penalty == 1.0 and hasattr(model, "next_token_greedy")


def _greedy_stream(model: Any, token: int, pos: int) -> Iterator[int]:
    """The model's greedy tokens after ``token`` at ``pos`` (LlamaModel.greedy_tokens: steps chained
    on the GPU), or one ``next_token_greedy`` call per token for models without it."""
    stream = getattr(model, "greedy_tokens", None)
    if stream is not None:
        return stream(token, pos)
    return _step_by_step(model, token, pos)


def _step_by_step(model: Any, token: int, pos: int) -> Iterator[int]:
    while True:
        token = model.next_token_greedy(token, pos)  # NOT_FINITE_TOKEN: the consumer stops there
        yield token
        pos += 1


@dataclass
class _DecodeState:
    """The mutable bookkeeping of one decode run (local to one generate call)."""

    history: list[int]  # prompt + generated, for the repetition penalty
    generated: list[int] = field(default_factory=list)
    pieces: list[str] = field(default_factory=list)  # shown text
    reason: str = "length"


def _emit(state: _DecodeState, text: str, on_text: Callable[[str], None] | None) -> None:
    if text:
        state.pieces.append(text)
        if on_text is not None:
            on_text(text)


def decode_n_tokens(
    model: Any,
    tokenizer: Any,
    logits: np.ndarray,
    state: _DecodeState,
    params: GenerationParams,
    on_text: Callable[[str], None] | None,
    cancel: threading.Event | None,
) -> None:
    rng = make_rng(params.seed)
    detok = tokenizer.detokenizer()
    scanner = StopScanner(params.stop)
    eog = tokenizer.eog_ids if params.stop_at_eog else frozenset()
    on_model = greedy_on_model(model, params.sampler)
    pos = len(state.history)
    next_token = None  # the model's greedy choice after the last step (on_model), else from logits
    greedy = None  # on_model: the model's greedy stream (it feeds back each token it yields)
    try:
        for _ in range(max(0, params.max_tokens)):
            if cancel is not None and cancel.is_set():
                state.reason = "cancelled"
                break
            token = next_token if next_token is not None else sample(logits, params.sampler, state.history, rng)
            if token in eog:
                state.reason = "eos"
                break
            state.generated.append(token)
            state.history.append(token)
            _emit(state, scanner.feed(detok.push(token)), on_text)
            if scanner.matched:
                state.reason = "stop"
                return
            if len(state.generated) >= params.max_tokens:
                break
            if pos >= model.n_ctx:
                state.reason = "context"
                break
            if on_model:
                if greedy is None:
                    greedy = _greedy_stream(model, token, pos)
                next_token = next(greedy)
                if next_token == NOT_FINITE_TOKEN:
                    raise model_nan_error(model)
            else:
                logits = decode_one_token(model, token, pos)
            pos += 1
    finally:
        if greedy is not None:
            greedy.close()  # a step queued ahead only wrote a cache row past the end
    _emit(state, scanner.feed(detok.flush()), on_text)
    if scanner.matched:
        state.reason = "stop"
    else:
        _emit(state, scanner.flush(), on_text)


def generate(
    model: Any,
    tokenizer: Any,
    prompt_ids: Sequence[int],
    params: GenerationParams | None = None,
    on_text: Callable[[str], None] | None = None,
    cancel: threading.Event | None = None,
) -> GenerationResult:
    """Generate after ``prompt_ids``; ``on_text`` receives each newly final piece of text;
    setting ``cancel`` stops between prefill chunks and between tokens. Logits that are not
    finite (damaged weights) raise QL-E-MODEL-NAN."""
    params = params or GenerationParams()
    check_prompt(prompt_ids, model.n_ctx)
    started = time.perf_counter()
    logits = prefill(model, prompt_ids, params.prefill_chunk, cancel)
    prefilled = time.perf_counter()
    state = _DecodeState(history=list(prompt_ids))
    if logits is None:
        state.reason = "cancelled"
    else:
        decode_n_tokens(model, tokenizer, logits, state, params, on_text, cancel)
    finished = time.perf_counter()
    timings = GenerationTimings(prefilled - started, finished - prefilled, len(prompt_ids), len(state.generated))
    return GenerationResult(
        text="".join(state.pieces),
        token_ids=tuple(state.generated),
        n_prompt=len(prompt_ids),
        n_generated=len(state.generated),
        stop_reason=state.reason,
        timings=timings,
    )
