"""One generation at a time: a worker thread in front of the (not thread-safe) model.

Requests are submitted from the asyncio event loop; each :class:`Job` carries an
``asyncio.Queue`` that the worker fills thread-safely with text pieces and then one final
item (the result or the error). At most ``max_waiting`` jobs wait behind the running one;
one more raises :class:`QueueFull` (HTTP 429). Setting a job's ``cancel`` event stops it at
the next token (abort, client gone); a job cancelled while waiting never starts.
:func:`result_unless_disconnected` is the non-streaming wait: it cancels the job when the
client goes away, so the slot is freed (streams cancel in ``streaming``).
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from engine.generate import GenerationParams, GenerationResult, GenerationTimings, generate

LOG = logging.getLogger("quantlaunch.server")
DISCONNECT_POLL_S = 0.1  # how often a non-streaming request checks that its client is still there


class QueueFull(Exception):
    """Too many requests are already waiting."""


@dataclass(frozen=True)
class _Done:
    result: GenerationResult | None = None
    error: BaseException | None = None


@dataclass(eq=False)
class Job:
    prompt_ids: tuple[int, ...]
    params: GenerationParams
    loop: asyncio.AbstractEventLoop
    cancel: threading.Event = field(default_factory=threading.Event)
    items: asyncio.Queue = field(default_factory=asyncio.Queue)  # str pieces, then one _Done
    outcome: _Done | None = None  # set once the final item has been read

    def _put(self, item: Any) -> None:
        try:
            self.loop.call_soon_threadsafe(self.items.put_nowait, item)
        except RuntimeError:  # the event loop is gone (shutdown): nobody is listening
            self.cancel.set()

    def push_text(self, text: str) -> None:
        self._put(text)

    def finish(self, result: GenerationResult | None, error: BaseException | None = None) -> None:
        self._put(_Done(result, error))

    async def pieces(self) -> AsyncIterator[str]:
        """Text pieces as they are generated; ends with the generation (raises its error)."""
        while True:
            item = await self.items.get()
            if isinstance(item, _Done):
                self.outcome = item
                if item.error is not None:
                    raise item.error
                return
            yield item

    async def result(self) -> GenerationResult:
        async for _ in self.pieces():
            pass
        return self.outcome.result


def _cancelled_result(job: Job) -> GenerationResult:
    timings = GenerationTimings(0.0, 0.0, len(job.prompt_ids), 0)
    return GenerationResult("", (), len(job.prompt_ids), 0, "cancelled", timings)


async def result_unless_disconnected(job: Job, is_disconnected: Callable[[], Awaitable[bool]],
                                     poll_s: float = DISCONNECT_POLL_S) -> GenerationResult:
    """The job's result, or, when ``is_disconnected()`` turns true first (the client closed the
    connection), the job cancelled at once and an empty "cancelled" result (nobody reads it)."""
    waiter = asyncio.ensure_future(job.result())
    try:
        while True:
            done, _ = await asyncio.wait({waiter}, timeout=poll_s)
            if done:
                return waiter.result()
            if await is_disconnected():
                LOG.info("client went away: cancelling its generation")
                job.cancel.set()  # running: stops at the next token; waiting: never starts
                return _cancelled_result(job)
    finally:
        if not waiter.done():
            waiter.cancel()
        job.cancel.set()  # done, gone or this handler cancelled: the job needs nothing more


@dataclass
class WorkerStats:
    """What /api/extra/perf reports (owned by one worker; read under its lock)."""

    total_generations: int = 0
    last: GenerationResult | None = None
    last_seed: int = -1


class GenerationWorker:
    def __init__(self, model: Any, tokenizer: Any, max_waiting: int = 8,
                 generate_fn: Callable[..., GenerationResult] = generate):
        self._model, self._tokenizer, self._generate = model, tokenizer, generate_fn
        self._max_waiting = max_waiting
        self._jobs: queue.Queue[Job | None] = queue.Queue()
        self._lock = threading.Lock()
        self._waiting = 0
        self._current: Job | None = None
        self._stopping = threading.Event()  # set by stop(): jobs still queued end as cancelled
        self.stats = WorkerStats()
        self._thread = threading.Thread(target=self._run, name="generation-worker", daemon=True)
        self._thread.start()

    @property
    def waiting(self) -> int:
        with self._lock:
            return self._waiting

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._current is not None

    def submit(self, prompt_ids: Sequence[int], params: GenerationParams) -> Job:
        """Queue a generation (call from the event loop). Raises QueueFull."""
        job = Job(tuple(prompt_ids), params, asyncio.get_running_loop())
        with self._lock:
            if self._waiting >= self._max_waiting and (self._current is not None or self._waiting > 0):
                raise QueueFull(f"{self._waiting} requests are already waiting")
            self._waiting += 1
        self._jobs.put(job)
        return job

    def abort(self) -> bool:
        """Stop the running generation at its next token; True if one was running."""
        with self._lock:
            job = self._current
        if job is None:
            return False
        job.cancel.set()
        return True

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        self.abort()
        self._jobs.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            with self._lock:
                self._waiting -= 1
                self._current = job
            try:
                self._execute(job)
            finally:
                with self._lock:
                    self._current = None

    def _execute(self, job: Job) -> None:
        if job.cancel.is_set() or self._stopping.is_set():
            job.finish(_cancelled_result(job))
            return
        try:
            result = self._generate(self._model, self._tokenizer, job.prompt_ids, job.params,
                                    on_text=job.push_text, cancel=job.cancel)
        except Exception as exc:  # reported to this request only; the worker lives on
            LOG.exception("generation failed")
            job.finish(None, exc)
            return
        with self._lock:
            self.stats.total_generations += 1
            self.stats.last = result
            self.stats.last_seed = job.params.seed if job.params.seed is not None else -1
        job.finish(result)
