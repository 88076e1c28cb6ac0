"""Bad input and access control: clear 4xx answers naming the problem; the server lives on."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.server.conftest import TINY_CTX, serving
from tests.server.reference import kobold_body

KEY = "s3cret-key"


@pytest.fixture
def keyed_server(tiny_parts):
    with serving(tiny_parts, api_key=KEY) as running:
        yield running


@pytest.mark.parametrize("method,path", [
    ("GET", "/api/v1/model"), ("GET", "/api/extra/perf"), ("POST", "/api/v1/generate"),
    ("POST", "/api/extra/tokencount"), ("GET", "/v1/models"), ("POST", "/v1/completions"),
    ("POST", "/v1/chat/completions"), ("POST", "/api/extra/abort"),
])
def test_routes_need_the_key(keyed_server, method, path):
    answer = httpx.request(method, keyed_server.url + path, json={"prompt": "x"}, timeout=10)
    assert answer.status_code == 401
    wrong = httpx.request(method, keyed_server.url + path, json={"prompt": "x"},
                          headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401


def test_key_is_accepted_in_every_header_style(keyed_server):
    url = keyed_server.url
    for headers in ({"Authorization": f"Bearer {KEY}"}, {"X-API-Key": KEY}, {"apikey": KEY}):
        assert httpx.get(f"{url}/api/v1/model", headers=headers, timeout=10).status_code == 200
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200  # no key needed
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=KEY, max_retries=0, timeout=30)
    assert client.models.list().data[0].id == "tiny"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{url}/v1", api_key="bad", max_retries=0).models.list()


def test_loading_server_answers_503():
    with serving(None) as running:
        assert httpx.get(f"{running.url}/health", timeout=10).status_code == 503
        answer = httpx.post(f"{running.url}/v1/completions", json={"prompt": "x"}, timeout=10)
        assert answer.status_code == 503
        assert "loading" in answer.json()["error"]["message"]


@pytest.mark.parametrize("path,body,field", [
    ("/api/v1/generate", {"max_length": 5}, "prompt"),
    ("/api/v1/generate", {"prompt": "x", "temperature": "hot"}, "temperature"),
    ("/api/v1/generate", {"prompt": "x", "top_p": 1.5}, "top_p"),
    ("/api/v1/generate", {"prompt": "x", "max_length": 0}, "max_length"),
    ("/api/v1/generate", {"prompt": "x", "rep_pen": 0}, "rep_pen"),
    ("/api/v1/generate", {"prompt": "x", "stop_sequence": "not-a-list"}, "stop_sequence"),
    ("/api/extra/tokencount", {"prompt": 5}, "prompt"),
    ("/v1/completions", {"prompt": "x", "max_tokens": -3}, "max_tokens"),
    ("/v1/completions", {"prompt": "x", "n": 2}, "n"),
    ("/v1/chat/completions", {"messages": []}, "messages"),
    ("/v1/chat/completions", {"messages": [{"content": "no role"}]}, "messages.0.role"),
])
def test_invalid_bodies_name_the_field(tiny_server, path, body, field):
    answer = httpx.post(tiny_server.url + path, json=body, timeout=10)
    assert answer.status_code == 422
    payload = answer.json()
    message = payload["error"]["message"] if path.startswith("/v1/") else payload["detail"]["msg"]
    assert message.startswith(f"{field}:"), message


def test_not_json_and_wrong_shapes(tiny_server):
    url = tiny_server.url
    for raw in (b"{not json", b"[1, 2]", b"", b"null", b"\xff\xfe"):
        answer = httpx.post(f"{url}/api/v1/generate", content=raw, timeout=10)
        assert answer.status_code == 422, raw
    nan = httpx.post(f"{url}/api/v1/generate", content=b'{"prompt": "x", "temperature": NaN}', timeout=10)
    assert nan.status_code == 422 and nan.json()["detail"]["msg"].startswith("temperature:")
    assert httpx.post(f"{url}/v1/completions", json={"prompt": ["a", "b"]}, timeout=10).status_code == 400
    assert httpx.get(f"{url}/no/such/route", timeout=10).status_code == 404
    assert httpx.get(f"{url}/api/v1/generate", timeout=10).status_code == 405
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200


def test_prompt_longer_than_the_context_is_a_clear_400(tiny_server, tiny_parts):
    long_prompt = " word" * (TINY_CTX + 50)
    assert len(tiny_parts[1].encode(long_prompt)) >= TINY_CTX
    answer = httpx.post(f"{tiny_server.url}/v1/completions", json={"prompt": long_prompt}, timeout=10)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "QL-E-CONTEXT" and "context" in error["message"]
    kobold = httpx.post(f"{tiny_server.url}/api/v1/generate", json=kobold_body(long_prompt, 1), timeout=10)
    assert kobold.status_code == 400 and "context" in kobold.json()["detail"]["msg"]


def test_huge_numbers_are_clamped_not_crashing(tiny_server):
    body = kobold_body("x", seed=10**40, max_length=10**12, top_k=10**30, rep_pen_range=-(10**30),
                       temperature=1e-300)
    answer = httpx.post(f"{tiny_server.url}/api/v1/generate", json=body, timeout=60)
    assert answer.status_code == 200
    assert answer.json()["results"][0]["completion_tokens"] < TINY_CTX
