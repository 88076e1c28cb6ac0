"""The independent reference for server answers: engine.generate run directly, in-process,
with sampler settings spelled out by the test (not derived by the server's code)."""

from __future__ import annotations

from engine.generate import GenerationParams, generate
from engine.sampling import SamplerParams


def reference(parts, prompt_ids, max_tokens: int, seed: int, temperature: float = 0.9, top_p: float = 0.95,
              top_k: int = 0, stop: tuple[str, ...] = (), stop_at_eog: bool = True, rep_pen: float = 1.0):
    model, tokenizer = parts
    sampler = SamplerParams(temperature=temperature, top_k=top_k, top_p=top_p, min_p=0.0, typical=1.0,
                            repetition_penalty=rep_pen, repetition_range=256)
    params = GenerationParams(max_tokens=max_tokens, stop=stop, sampler=sampler, seed=seed, stop_at_eog=stop_at_eog)
    return generate(model, tokenizer, prompt_ids, params)


def kobold_body(prompt: str, seed: int, max_length: int = 12, **extra) -> dict:
    """A KoboldAI generate body whose sampler matches ``reference`` (plus unknown fields)."""
    body = {"prompt": prompt, "max_length": max_length, "sampler_seed": seed, "temperature": 0.9,
            "top_p": 0.95, "top_k": 0, "min_p": 0.0, "typical": 1.0, "rep_pen": 1.0, "rep_pen_range": 256,
            "max_context_length": 256, "n": 1, "quiet": True, "sampler_order": [6, 0, 1, 3, 4, 2, 5]}
    body.update(extra)
    return body
