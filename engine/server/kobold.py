"""The KoboldAI API (KoboldCpp's flavour), so existing Kobold clients work unchanged."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request

from engine import __version__
from engine.server.params import check_length, encode_prompt, finish_reason, generation_params, sampler_params
from engine.server.schemas import KoboldGenerateRequest, TokenCountRequest
from engine.server.state import EngineState, LoadedModel
from engine.server.streaming import sse_data, stream_job
from engine.server.worker import result_unless_disconnected

KOBOLD_API_VERSION = "1.2.5"
KOBOLDCPP_COMPAT_VERSION = "1.80"  # the KoboldCpp feature level clients may assume

router = APIRouter()


def _state(request: Request) -> EngineState:
    return request.app.state.engine


@router.get("/api/v1/model")
async def model_name(request: Request) -> dict:
    state = _state(request)
    state.require()
    return {"result": f"koboldcpp/{state.config.model_name}"}


@router.get("/api/v1/info/version")
async def api_version() -> dict:
    return {"result": KOBOLD_API_VERSION}


@router.get("/api/extra/version")
async def extra_version() -> dict:
    return {"result": "KoboldCpp", "version": KOBOLDCPP_COMPAT_VERSION, "engine": "quantlaunch",
            "engine_version": __version__}


@router.get("/api/v1/config/max_context_length")
async def max_context_length(request: Request) -> dict:
    return {"value": _state(request).require().n_ctx}


@router.get("/api/v1/config/max_length")
async def max_length(request: Request) -> dict:
    return {"value": _state(request).config.sampler.max_length}


@router.get("/api/extra/perf")
async def perf(request: Request) -> dict:
    state = _state(request)
    loaded = state.require()
    stats, last = loaded.worker.stats, loaded.worker.stats.last
    return {
        "last_process": last.timings.prefill_s if last else 0.0,
        "last_eval": last.timings.decode_s if last else 0.0,
        "last_token_count": last.n_generated if last else 0,
        "last_input_count": last.n_prompt if last else 0,
        "last_seed": stats.last_seed,
        "stop_reason": last.stop_reason if last else "",
        "total_gens": stats.total_generations,
        "queue": loaded.worker.waiting,
        "idle": 0 if loaded.worker.busy else 1,
        "uptime": time.time() - state.started,
    }


def _prepare(state: EngineState, body: KoboldGenerateRequest) -> tuple[LoadedModel, list[int], object]:
    loaded = state.require()
    defaults = state.config.sampler
    ids = encode_prompt(loaded, body.prompt)
    sampler = sampler_params(body, defaults, body.rep_pen, body.rep_pen_range)
    seed = body.sampler_seed if body.sampler_seed is not None else defaults.seed
    params = generation_params(sampler, body.max_length or defaults.max_length, len(ids), loaded.n_ctx,
                               body.stop_sequence or (), seed, body.ban_eos_token)
    return loaded, ids, params


@router.post("/api/v1/generate")
async def kobold_generate(request: Request, body: KoboldGenerateRequest) -> dict:
    loaded, ids, params = _prepare(_state(request), body)
    result = await result_unless_disconnected(loaded.submit(ids, params), request.is_disconnected)
    return {"results": [{"text": result.text, "finish_reason": finish_reason(result.stop_reason),
                         "prompt_tokens": result.n_prompt, "completion_tokens": result.n_generated}]}


@router.post("/api/extra/generate/stream")
async def kobold_stream(request: Request, body: KoboldGenerateRequest):
    loaded, ids, params = _prepare(_state(request), body)
    job = loaded.submit(ids, params)
    return stream_job(
        job,
        on_piece=lambda piece: sse_data({"token": piece, "finish_reason": None}, event="message"),
        on_end=lambda r: sse_data({"token": "", "finish_reason": finish_reason(r.stop_reason)}, event="message"),
        on_error=lambda msg: sse_data({"token": "", "finish_reason": "error", "error": msg}, event="message"),
    )


@router.post("/api/extra/abort")
async def abort(request: Request) -> dict:
    aborted = _state(request).require().worker.abort()
    return {"success": "true" if aborted else "false", "done": "true"}


@router.post("/api/extra/tokencount")
async def tokencount(request: Request, body: TokenCountRequest) -> dict:
    loaded = _state(request).require()
    check_length(loaded, body.prompt)
    ids = loaded.tokenizer.encode(body.prompt, add_special=False)
    return {"value": len(ids), "ids": ids}
