"""Several clients at once: every answer is right (as if run alone), the waiting line is
bounded (429), and a client that leaves mid-stream frees the slot."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.server.conftest import serving
from tests.server.reference import kobold_body
from tests.server.slowed import slowed_generate

REQUESTS = [("alpha beta", 1), ("gamma", 2), ("delta epsilon zeta", 3), ("alpha beta", 4), ("eta", 5), ("theta", 1)]


def _generate(url: str, prompt: str, seed: int) -> str:
    body = kobold_body(prompt, seed=seed, max_length=10)
    answer = httpx.post(f"{url}/api/v1/generate", json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()["results"][0]["text"]


def test_concurrent_clients_get_their_own_answers(tiny_server):
    alone = [_generate(tiny_server.url, prompt, seed) for prompt, seed in REQUESTS]
    assert len(set(alone)) > 1  # the requests really differ
    with ThreadPoolExecutor(max_workers=len(REQUESTS)) as pool:
        together = list(pool.map(lambda r: _generate(tiny_server.url, *r), REQUESTS))
    assert together == alone


def _wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def test_full_queue_answers_429(tiny_parts):
    # slowed: the first generation is surely still running when the third request comes
    with serving(tiny_parts, max_waiting=1, generate_fn=slowed_generate([])) as running:
        url = running.url
        long_body = kobold_body("long", seed=1, max_length=240, ban_eos_token=True)
        with httpx.stream("POST", f"{url}/api/extra/generate/stream", json=long_body, timeout=30) as first:
            lines = first.iter_lines()
            next(line for line in lines if line.startswith("data: "))  # the first request is running
            waiter = threading.Thread(target=_generate, args=(url, "queued", 2))
            waiter.start()
            _wait_for(lambda: running.loaded.worker.waiting == 1)
            third = httpx.post(f"{url}/api/v1/generate", json=kobold_body("third", seed=3), timeout=30)
            assert third.status_code == 429
            assert "busy" in third.json()["detail"]["msg"]
            httpx.post(f"{url}/api/extra/abort", timeout=10)
            list(lines)
        waiter.join(30)
        assert httpx.get(f"{url}/health").status_code == 200


def test_client_disconnect_cancels_its_generation(tiny_server):
    url, worker = tiny_server.url, tiny_server.loaded.worker
    body = kobold_body("bye", seed=1, max_length=240, ban_eos_token=True)
    with httpx.stream("POST", f"{url}/api/extra/generate/stream", json=body, timeout=30) as answer:
        first = next(line for line in answer.iter_lines() if line.startswith("data: "))
        assert json.loads(first[6:])["finish_reason"] is None
    # the connection is closed here; the worker must notice and stop at the next token
    _wait_for(lambda: worker.stats.total_generations >= 1 and not worker.busy)
    assert worker.stats.last.stop_reason == "cancelled"
    assert worker.stats.last.n_generated < 240, worker.stats.last.n_generated
