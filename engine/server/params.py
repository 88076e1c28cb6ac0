"""From request fields to token ids and GenerationParams, checked against the context."""

from __future__ import annotations

from collections.abc import Sequence

from engine.chat_template import ChatTemplate
from engine.diagnostics import DiagnosticError, error
from engine.generate import GenerationParams, check_prompt
from engine.sampling import SamplerParams
from engine.server.errors import ApiError
from engine.server.schemas import ChatMessage, SamplerFields
from engine.server.state import LoadedModel
from engine.settings import SamplerDefaults

MIN_TEMPERATURE = 1e-6  # below this (but above 0) logits / T could overflow float64


def _pick(value, default):
    return default if value is None else value


def sampler_params(fields: SamplerFields, defaults: SamplerDefaults, rep_pen: float | None,
                   rep_pen_range: int | None) -> SamplerParams:
    temperature = _pick(fields.temperature, defaults.temperature)
    if temperature > 0:
        temperature = max(temperature, MIN_TEMPERATURE)
    return SamplerParams(
        temperature=temperature,
        top_k=_pick(fields.top_k, defaults.top_k),
        top_p=_pick(fields.top_p, defaults.top_p),
        min_p=_pick(fields.min_p, defaults.min_p),
        typical=_pick(fields.typical, defaults.typical),
        repetition_penalty=_pick(rep_pen, defaults.rep_pen),
        repetition_range=_pick(rep_pen_range, defaults.rep_pen_range),
    )


def generation_params(sampler: SamplerParams, max_tokens: int, n_prompt: int, n_ctx: int,
                      stop: Sequence[str], seed: int | None, ignore_eos: bool) -> GenerationParams:
    """``max_tokens`` is clamped to what the context still holds after the prompt."""
    room = max(1, n_ctx - n_prompt)
    return GenerationParams(max_tokens=min(max_tokens, room), stop=tuple(stop), sampler=sampler,
                            seed=seed, stop_at_eog=not ignore_eos)


def check_length(loaded: LoadedModel, text: str) -> None:
    """400 (QL-E-CONTEXT) for a text too long to fit the context whatever its tokens, checked
    before tokenizing it: the tokenizer holds the GIL, so megabytes of text would stall every
    other request (and /health) for seconds."""
    longest, n_ctx = loaded.longest_token, loaded.n_ctx
    if len(text) >= n_ctx * longest:
        raise DiagnosticError(error(
            "QL-E-CONTEXT", "The prompt does not fit the context",
            f"The prompt has {len(text)} characters; no token of this model stands for more than {longest}, "
            f"so that is at least {len(text) // longest} tokens, but the context holds {n_ctx}. Shorten the "
            "prompt or load the model with a larger context.",
            n_ctx=n_ctx,
        ))


def encode_prompt(loaded: LoadedModel, text: str) -> list[int]:
    """Token ids of a plain prompt; 400 (QL-E-CONTEXT / QL-E-PROMPT-EMPTY) when it cannot run."""
    check_length(loaded, text)
    ids = loaded.tokenizer.encode(text, add_special=True)
    check_prompt(ids, loaded.n_ctx)  # raises DiagnosticError -> 400
    return ids


def chat_prompt_ids(loaded: LoadedModel, messages: Sequence[ChatMessage]) -> list[int]:
    """The chat rendered by the file's template (ChatML when it has none), then tokenized;
    BOS is added only when the file wants one and the template did not write it."""
    tokenizer, n_ctx = loaded.tokenizer, loaded.n_ctx
    rendered = ChatTemplate.for_tokenizer(tokenizer).render(
        [{"role": m.role, "content": m.text()} for m in messages], add_generation_prompt=True
    )
    check_length(loaded, rendered)
    ids = tokenizer.encode(rendered, add_special=False)
    bos = tokenizer.bos_id
    if tokenizer.vocab.add_bos and bos is not None and (not ids or ids[0] != bos):
        ids.insert(0, bos)
    check_prompt(ids, n_ctx)
    return ids


def single_prompt(prompt: str | list[str]) -> str:
    if isinstance(prompt, str):
        return prompt
    if len(prompt) != 1:
        raise ApiError(400, f"prompt: exactly one prompt is supported, got {len(prompt)}", param="prompt")
    return prompt[0]


def finish_reason(stop_reason: str) -> str:
    """OpenAI / KoboldCpp finish_reason of an engine stop reason."""
    return "length" if stop_reason in ("length", "context") else "stop"
