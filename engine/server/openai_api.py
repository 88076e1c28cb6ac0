"""The OpenAI API: /v1/models, /v1/completions, /v1/chat/completions (streaming or not)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from fastapi import APIRouter, Request

from engine.generate import GenerationParams, GenerationResult
from engine.server.params import (
    chat_prompt_ids,
    encode_prompt,
    finish_reason,
    generation_params,
    sampler_params,
    single_prompt,
)
from engine.server.schemas import ChatCompletionRequest, CompletionRequest, OpenAIFields
from engine.server.state import EngineState, LoadedModel
from engine.server.streaming import sse_data, stream_job
from engine.server.worker import result_unless_disconnected

router = APIRouter()
DONE_LINE = "data: [DONE]\n\n"


def _state(request: Request) -> EngineState:
    return request.app.state.engine


def _usage(result: GenerationResult) -> dict:
    return {"prompt_tokens": result.n_prompt, "completion_tokens": result.n_generated,
            "total_tokens": result.n_prompt + result.n_generated}


def _params(state: EngineState, loaded: LoadedModel, body: OpenAIFields, n_prompt: int) -> GenerationParams:
    defaults = state.config.sampler
    sampler = sampler_params(body, defaults, body.repeat_penalty, None)
    wanted = body.max_tokens or body.max_completion_tokens or defaults.max_length
    seed = body.seed if body.seed is not None else defaults.seed
    return generation_params(sampler, wanted, n_prompt, loaded.n_ctx, body.stop_list(), seed, body.ignore_eos)


@router.get("/v1/models")
async def models(request: Request) -> dict:
    state = _state(request)
    state.require()
    return {"object": "list", "data": [{"id": state.config.model_name, "object": "model",
                                        "created": int(state.started), "owned_by": "quantlaunch"}]}


def _chunk(kind: str, ident: str, model: str, choice: dict, usage: dict | None = None) -> dict:
    chunk = {"id": ident, "object": kind, "created": int(time.time()), "model": model, "choices": [choice]}
    if usage is not None:
        chunk["usage"] = usage
    return chunk


def _stream(job, body: OpenAIFields, kind: str, ident: str, model: str,
            piece_choice: Callable[[str], dict], end_choice: Callable[[str], dict]):
    def on_end(result: GenerationResult) -> str:
        usage = _usage(result) if body.stream_options and body.stream_options.include_usage else None
        return sse_data(_chunk(kind, ident, model, end_choice(finish_reason(result.stop_reason)), usage)) + DONE_LINE

    return stream_job(
        job,
        on_piece=lambda piece: sse_data(_chunk(kind, ident, model, piece_choice(piece))),
        on_end=on_end,
        on_error=lambda msg: sse_data({"error": {"message": msg, "type": "server_error"}}) + DONE_LINE,
    )


@router.post("/v1/completions")
async def completions(request: Request, body: CompletionRequest):
    state = _state(request)
    loaded = state.require()
    ids = encode_prompt(loaded, single_prompt(body.prompt))
    job = loaded.submit(ids, _params(state, loaded, body, len(ids)))
    ident, model, kind = f"cmpl-{uuid.uuid4().hex}", state.config.model_name, "text_completion"
    if body.stream:
        return _stream(job, body, kind, ident, model,
                       lambda piece: {"index": 0, "text": piece, "logprobs": None, "finish_reason": None},
                       lambda reason: {"index": 0, "text": "", "logprobs": None, "finish_reason": reason})
    result = await result_unless_disconnected(job, request.is_disconnected)
    choice = {"index": 0, "text": result.text, "logprobs": None, "finish_reason": finish_reason(result.stop_reason)}
    return {"id": ident, "object": kind, "created": int(time.time()), "model": model, "choices": [choice],
            "usage": _usage(result)}


@router.post("/v1/chat/completions")
async def chat_completions(request: Request, body: ChatCompletionRequest):
    state = _state(request)
    loaded = state.require()
    ids = chat_prompt_ids(loaded, body.messages)
    job = loaded.submit(ids, _params(state, loaded, body, len(ids)))
    ident, model = f"chatcmpl-{uuid.uuid4().hex}", state.config.model_name
    if body.stream:
        return _stream(job, body, "chat.completion.chunk", ident, model,
                       lambda piece: {"index": 0, "delta": {"role": "assistant", "content": piece},
                                      "finish_reason": None},
                       lambda reason: {"index": 0, "delta": {}, "finish_reason": reason})
    result = await result_unless_disconnected(job, request.is_disconnected)
    choice = {"index": 0, "message": {"role": "assistant", "content": result.text},
              "finish_reason": finish_reason(result.stop_reason)}
    return {"id": ident, "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [choice], "usage": _usage(result)}
