"""Hostile input found by probing a live server: text no tokenizer can encode, bodies json.loads
refuses in odd ways, union fields, prompts of megabytes, bodies sent without the key. Each gets
a clear 4xx JSON answer (never a 500) and the server serves on."""

from __future__ import annotations

import httpx
import pytest

from engine.tokenizer import Tokenizer
from tests.server.conftest import serving

CHAT = '"messages": [{"role": "user", "content": "hi"}]'


def _message(path: str, answer: httpx.Response) -> str:
    payload = answer.json()
    return payload["error"]["message"] if path.startswith("/v1/") else payload["detail"]["msg"]


def _still_serving(url: str) -> None:
    assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    answer = httpx.post(f"{url}/api/v1/generate", json={"prompt": "hello", "max_length": 2}, timeout=60)
    assert answer.status_code == 200 and answer.json()["results"][0]["completion_tokens"] >= 1


@pytest.mark.parametrize("path,raw,field", [
    ("/api/v1/generate", r'{"prompt": "a\ud800b", "max_length": 2}', "prompt"),
    ("/api/extra/generate/stream", r'{"prompt": "\udfff\ud800", "max_length": 2}', "prompt"),
    ("/api/extra/tokencount", r'{"prompt": "x\ud800"}', "prompt"),
    ("/api/v1/generate", r'{"prompt": "x", "stop_sequence": ["\ud800"]}', "stop_sequence.0"),
    ("/v1/completions", r'{"prompt": "\ud800", "max_tokens": 2}', "prompt"),
    ("/v1/completions", r'{"prompt": ["\ud800"], "max_tokens": 2}', "prompt.0"),
    ("/v1/chat/completions", r'{"messages": [{"role": "user", "content": "\ud800"}], "stream": true}', "messages.0.content"),
    ("/v1/chat/completions", r'{"messages": [{"role": "\ud800", "content": "x"}]}', "messages.0.role"),
    ("/v1/chat/completions", r'{"messages": [{"role": "user", "content": [{"type": "text", "text": "\udc00"}]}]}',
     "messages.0.content.0.text"),
])
def test_lone_surrogates_are_a_422_naming_the_field(tiny_server, path, raw, field):
    answer = httpx.post(tiny_server.url + path, content=raw.encode(), timeout=30)
    assert answer.status_code == 422, answer.text
    message = _message(path, answer)
    assert message.startswith(f"{field}:") and "unpaired UTF-16 surrogate" in message, message
    _still_serving(tiny_server.url)


def test_a_surrogate_pair_is_ordinary_text(tiny_server):
    answer = httpx.post(f"{tiny_server.url}/api/extra/tokencount", content=rb'{"prompt": "\ud83d\ude00"}', timeout=10)
    assert answer.status_code == 200 and answer.json()["value"] >= 1


@pytest.mark.parametrize("path,body,field", [
    ("/v1/completions", {"prompt": "x", "stop": ["a", 5]}, "stop.1"),
    ("/v1/completions", {"prompt": ["a", None]}, "prompt.1"),
    ("/v1/completions", {"prompt": 5}, "prompt"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": 5}]}, "messages.0.content"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
     "messages.0.content.0.text"),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": ["hi"]}]}, "messages.0.content.0"),
])
def test_union_fields_name_the_real_problem(tiny_server, path, body, field):
    """A string-or-list field used to answer "stop.str: Input should be a valid string" for
    ``["a", 5]``: a field that does not exist, and not the element that is wrong."""
    answer = httpx.post(tiny_server.url + path, json=body, timeout=10)
    assert answer.status_code == 422
    message = _message(path, answer)
    assert message.split(":")[0] == field, message
    assert answer.json()["error"]["param"] == field


@pytest.mark.parametrize("path,body", [
    ("/v1/completions", {"prompt": "x", "max_tokens": 1, "n": None, "stream": None}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "x"}], "max_tokens": 1, "n": None,
                              "stream": None, "stop": None, "seed": None, "temperature": None}),
])
def test_openai_nulls_mean_the_default(tiny_server, path, body):
    """The OpenAI API documents ``null`` for n and stream (some clients send it)."""
    answer = httpx.post(tiny_server.url + path, json=body, timeout=60)
    assert answer.status_code == 200, answer.text
    assert answer.json()["usage"]["completion_tokens"] == 1


@pytest.mark.parametrize("raw,why", [
    ('{"prompt": "H\xe9", "max_length": 2}'.encode("latin-1"), "not UTF-8"),
    (b'{"prompt": "x", "junk": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nested too deeply"),
    (b'{"prompt": "x", "max_length": 1' + b"0" * 5000 + b"}", "too many digits"),
])
@pytest.mark.parametrize("path", ["/api/v1/generate", "/v1/chat/completions"])
def test_bodies_json_loads_refuses_oddly_are_invalid_json(tiny_server, path, raw, why):
    answer = httpx.post(tiny_server.url + path, content=raw, timeout=30)
    assert answer.status_code == 422
    message = _message(path, answer)
    assert message.startswith("body: the request body is not valid JSON") and why in message, message
    _still_serving(tiny_server.url)


@pytest.fixture
def encoded_lengths(monkeypatch):
    """Lengths of the texts the server hands to the tokenizer (it runs in this process)."""
    lengths: list[int] = []
    original = Tokenizer.encode

    def spy(self, text, *args, **kwargs):
        lengths.append(len(text))
        return original(self, text, *args, **kwargs)

    monkeypatch.setattr(Tokenizer, "encode", spy)
    return lengths


@pytest.mark.parametrize("path,body", [
    ("/api/v1/generate", lambda text: {"prompt": text, "max_length": 2}),
    ("/api/extra/tokencount", lambda text: {"prompt": text}),
    ("/v1/completions", lambda text: {"prompt": [text], "max_tokens": 2}),
    ("/v1/chat/completions", lambda text: {"messages": [{"role": "user", "content": text}], "stream": True}),
])
def test_a_prompt_too_long_for_any_tokenization_is_refused_before_tokenizing(tiny_server, encoded_lengths,
                                                                             path, body):
    """Tokenizing megabytes holds the GIL for seconds (10 MB: ~13 s on the demo model, /health
    unanswered all along); a text longer than the context could hold is refused unread."""
    loaded = tiny_server.loaded
    huge = "word " * (loaded.n_ctx * loaded.longest_token // 5 + 10)
    answer = httpx.post(tiny_server.url + path, json=body(huge), timeout=60)
    assert answer.status_code == 400
    message = _message(path, answer)
    assert message.startswith("The prompt does not fit the context") and "characters" in message, message
    assert all(n < len(huge) for n in encoded_lengths), "the huge text reached the tokenizer"
    _still_serving(tiny_server.url)


def test_the_length_bound_never_refuses_a_prompt_that_fits(tiny_server, tiny_parts):
    """The bound is sound: a token never covers more characters than its longest text's bytes."""
    loaded, tokenizer = tiny_server.loaded, tiny_parts[1]
    longest = max(tokenizer.vocab.tokens, key=lambda t: len(t.encode()))
    text = tokenizer.decode([tokenizer.vocab.tokens.index(longest)] * 3, skip_special=False)
    assert len(text) <= 3 * loaded.longest_token
    answer = httpx.post(f"{tiny_server.url}/api/extra/tokencount", json={"prompt": text}, timeout=10)
    assert answer.status_code == 200


@pytest.fixture
def keyed_server(tiny_parts):
    with serving(tiny_parts, api_key="k3y") as running:
        yield running


@pytest.mark.parametrize("path", ["/api/v1/generate", "/api/extra/tokencount", "/v1/completions",
                                  "/v1/chat/completions", "/api/extra/generate/stream", "/no/such/route"])
def test_the_key_is_checked_before_the_body(keyed_server, path):
    """Without the key, a bad body used to get a 422 about the body (parsed for a stranger)."""
    for raw in (b"{not json", b'{"prompt": 5, "messages": 7}'):
        answer = httpx.post(keyed_server.url + path, content=raw, timeout=10)
        assert answer.status_code == 401, (path, raw, answer.text)
        assert "API key" in _message(path, answer) and answer.headers["www-authenticate"] == "Bearer"
    with_key = httpx.post(keyed_server.url + path, content=b"{not json", headers={"Authorization": "Bearer k3y"},
                          timeout=10)
    assert with_key.status_code == (404 if path == "/no/such/route" else 422)
    assert httpx.get(f"{keyed_server.url}/health", timeout=10).status_code == 200
