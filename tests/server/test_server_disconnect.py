"""A non-streaming request whose client hangs up is cancelled: the worker is freed at once
and the next request runs (real loopback HTTP; the generation is the real one, slowed down)."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import urlparse

import httpx
import pytest

from tests.server.conftest import serving
from tests.server.reference import kobold_body, reference
from tests.server.slowed import slowed_generate

LONG = 240  # tokens the first request asks for (ban_eos: it would really make them all)
OPENAI_SAMPLER = {"temperature": 0.9, "top_p": 0.95, "top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0,
                  "ignore_eos": True}

ROUTES = {
    "/api/v1/generate": lambda n: kobold_body("Tell me everything", seed=3, max_length=n, ban_eos_token=True),
    "/v1/completions": lambda n: {"prompt": "Tell me everything", "max_tokens": n, "seed": 3, **OPENAI_SAMPLER},
    "/v1/chat/completions": lambda n: {"messages": [{"role": "user", "content": "Tell me everything"}],
                                       "max_tokens": n, "seed": 3, **OPENAI_SAMPLER},
}


def _send_raw(url: str, path: str, body: dict) -> socket.socket:
    """POST over a plain socket that the test can close before the answer comes."""
    where = urlparse(url)
    payload = json.dumps(body).encode()
    sock = socket.create_connection((where.hostname, where.port), timeout=10)
    head = (f"POST {path} HTTP/1.1\r\nHost: {where.netloc}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(payload)}\r\n\r\n").encode()
    sock.sendall(head + payload)
    return sock


def _wait_until(condition, limit_s: float = 20.0) -> bool:
    deadline = time.monotonic() + limit_s  # a bound so a broken server cannot hang the suite
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


@pytest.mark.parametrize("path", sorted(ROUTES))
def test_a_client_that_hangs_up_frees_the_worker_for_the_next_request(tiny_parts, path):
    results: list = []
    with serving(tiny_parts, generate_fn=slowed_generate(results)) as running:
        worker = running.loaded.worker
        first = _send_raw(running.url, path, ROUTES[path](LONG))
        assert _wait_until(lambda: worker.busy)
        first.close()  # the client goes away mid-generation
        assert _wait_until(lambda: not worker.busy)
        answer = httpx.post(f"{running.url}{path}", json=ROUTES[path](4), timeout=30)
    assert answer.status_code == 200
    long_run, short_run = results
    assert long_run.stop_reason == "cancelled" and long_run.n_generated < LONG
    assert short_run.stop_reason == "length" and short_run.n_generated == 4


def test_the_next_answer_is_the_reference_answer(tiny_parts):
    results: list = []
    body = kobold_body("Once upon a time", seed=11, max_length=6)
    with serving(tiny_parts, generate_fn=slowed_generate(results)) as running:
        first = _send_raw(running.url, "/api/v1/generate", kobold_body("Tell me everything", seed=3, max_length=LONG,
                                                                        ban_eos_token=True))
        assert _wait_until(lambda: running.loaded.worker.busy)
        first.close()
        answer = httpx.post(f"{running.url}/api/v1/generate", json=body, timeout=30).json()
    expected = reference(tiny_parts, tiny_parts[1].encode("Once upon a time"), 6, seed=11)
    assert answer["results"][0]["text"] == expected.text
    assert results[0].stop_reason == "cancelled"


def test_a_client_that_stays_gets_the_whole_answer(tiny_parts):
    results: list = []
    with serving(tiny_parts, generate_fn=slowed_generate(results)) as running:
        answer = httpx.post(f"{running.url}/api/v1/generate", timeout=30,
                            json=kobold_body("Tell me everything", seed=3, max_length=12, ban_eos_token=True))
    assert answer.status_code == 200 and results[0].stop_reason == "length" and results[0].n_generated == 12
    assert answer.json()["results"][0]["completion_tokens"] == 12
