"""Server-sent events over a generation job; the job is cancelled when the client leaves."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from fastapi.responses import StreamingResponse

from engine.generate import GenerationResult
from engine.server.worker import Job

LOG = logging.getLogger("quantlaunch.server")
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def sse_data(obj: Any, event: str | None = None) -> str:
    """One SSE event: ``event: NAME`` (optional) and a ``data:`` JSON line."""
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(obj, ensure_ascii=False)}\n\n"


async def _events(job: Job, on_piece: Callable[[str], str], on_end: Callable[[GenerationResult], str],
                  on_error: Callable[[str], str]) -> AsyncIterator[str]:
    try:
        async for piece in job.pieces():
            yield on_piece(piece)
        yield on_end(job.outcome.result)
    except Exception as exc:  # a failed generation ends this stream only
        LOG.warning("stream ended by an error: %s", exc)
        yield on_error(str(exc))
    finally:
        job.cancel.set()  # client gone (CancelledError / GeneratorExit) or done: free the slot


def stream_job(job: Job, on_piece: Callable[[str], str], on_end: Callable[[GenerationResult], str],
               on_error: Callable[[str], str]) -> StreamingResponse:
    return StreamingResponse(_events(job, on_piece, on_end, on_error), media_type="text/event-stream",
                             headers=SSE_HEADERS)
