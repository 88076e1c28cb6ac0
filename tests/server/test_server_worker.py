"""GenerationWorker on its own: order, cancellation while waiting, errors kept to one job."""

from __future__ import annotations

import asyncio
import threading

import pytest

from engine.generate import GenerationParams, generate
from engine.sampling import SamplerParams
from engine.server import GenerationWorker, QueueFull

PARAMS = GenerationParams(max_tokens=6, sampler=SamplerParams.greedy())


def gated_generate(gate: threading.Event, calls: list):
    """The real generate, held at a gate so the test decides when the running job may go."""
    def run(model, tokenizer, ids, params, on_text=None, cancel=None):
        calls.append(tuple(ids))
        if len(ids) == 1:
            raise RuntimeError("one-token prompts fail in this test")
        gate.wait(10)
        return generate(model, tokenizer, ids, params, on_text=on_text, cancel=cancel)
    return run


def test_waiting_job_cancelled_never_runs_and_the_line_is_bounded(tiny_parts):
    gate, calls = threading.Event(), []
    tokenizer = tiny_parts[1]
    worker = GenerationWorker(*tiny_parts, max_waiting=1, generate_fn=gated_generate(gate, calls))
    first_ids, second_ids = tokenizer.encode("first one"), tokenizer.encode("second one")

    async def scenario():
        first = worker.submit(first_ids, PARAMS)
        while not worker.busy:
            await asyncio.sleep(0.005)
        second = worker.submit(second_ids, PARAMS)
        with pytest.raises(QueueFull):
            worker.submit(second_ids, PARAMS)
        second.cancel.set()
        gate.set()
        pieces = [piece async for piece in first.pieces()]
        return pieces, first.outcome.result, await second.result()

    try:
        pieces, first_result, second_result = asyncio.run(scenario())
    finally:
        worker.stop()
    expected = generate(*tiny_parts, first_ids, PARAMS)
    assert "".join(pieces) == first_result.text == expected.text
    assert second_result.stop_reason == "cancelled" and second_result.n_generated == 0
    assert calls == [tuple(first_ids)]


def test_a_failing_job_does_not_stop_the_worker(tiny_parts):
    gate, calls = threading.Event(), []
    gate.set()
    worker = GenerationWorker(*tiny_parts, generate_fn=gated_generate(gate, calls))
    good_ids = tiny_parts[1].encode("fine prompt")

    async def scenario():
        with pytest.raises(RuntimeError, match="one-token"):
            await worker.submit([good_ids[0]], PARAMS).result()
        return await worker.submit(good_ids, PARAMS).result()

    try:
        result = asyncio.run(scenario())
    finally:
        worker.stop()
    assert result.text == generate(*tiny_parts, good_ids, PARAMS).text
    assert worker.stats.total_generations == 1
