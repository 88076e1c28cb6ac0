"""KoboldAI endpoints over real loopback HTTP (httpx), checked against engine.generate."""

from __future__ import annotations

import json

import httpx

from tests.server.reference import kobold_body, reference


def parse_kobold_sse(text: str) -> list[dict]:
    events = []
    for block in text.strip().split("\n\n"):
        lines = block.split("\n")
        assert lines[0] == "event: message", block
        assert lines[1].startswith("data: "), block
        events.append(json.loads(lines[1][len("data: "):]))
    return events


def test_generate_matches_direct_generation(tiny_server, tiny_parts):
    tokenizer = tiny_parts[1]
    body = kobold_body("Once upon a time", seed=11, max_length=12)
    answer = httpx.post(f"{tiny_server.url}/api/v1/generate", json=body, timeout=30)
    assert answer.status_code == 200
    result = answer.json()["results"][0]
    expected = reference(tiny_parts, tokenizer.encode("Once upon a time"), 12, seed=11)
    assert result["text"] == expected.text
    assert result["completion_tokens"] == expected.n_generated
    assert result["finish_reason"] == ("length" if expected.stop_reason == "length" else "stop")


def test_stream_concatenates_to_the_same_text(tiny_server, tiny_parts):
    body = kobold_body("The river", seed=5, max_length=16, ban_eos_token=True)
    with httpx.stream("POST", f"{tiny_server.url}/api/extra/generate/stream", json=body, timeout=30) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        events = parse_kobold_sse(answer.read().decode())
    expected = reference(tiny_parts, tiny_parts[1].encode("The river"), 16, seed=5, stop_at_eog=False)
    assert "".join(e["token"] for e in events) == expected.text
    assert events[-1]["finish_reason"] == "length"
    assert all(e["finish_reason"] is None for e in events[:-1])


def test_stop_sequence_ends_the_text(tiny_server, tiny_parts):
    free = reference(tiny_parts, tiny_parts[1].encode("abc"), 30, seed=3, stop_at_eog=False)
    stop = free.text[5:8]  # a piece of text the model does produce
    body = kobold_body("abc", seed=3, max_length=30, ban_eos_token=True, stop_sequence=[stop])
    result = httpx.post(f"{tiny_server.url}/api/v1/generate", json=body, timeout=30).json()["results"][0]
    assert result["text"] == free.text[: free.text.find(stop)]
    assert result["finish_reason"] == "stop"


def test_abort_stops_a_running_stream(tiny_server):
    body = kobold_body("Tell me everything", seed=1, max_length=240, ban_eos_token=True)
    url = tiny_server.url
    with httpx.stream("POST", f"{url}/api/extra/generate/stream", json=body, timeout=30) as answer:
        lines = answer.iter_lines()
        first = next(line for line in lines if line.startswith("data: "))
        assert json.loads(first[6:])["finish_reason"] is None
        assert httpx.post(f"{url}/api/extra/abort", json={"genkey": ""}, timeout=10).json()["success"] == "true"
        rest = [json.loads(line[6:]) for line in lines if line.startswith("data: ")]
    assert rest[-1]["finish_reason"] == "stop"
    perf = httpx.get(f"{url}/api/extra/perf", timeout=10).json()
    assert perf["stop_reason"] == "cancelled"
    assert perf["last_token_count"] < 240


def test_tokencount_and_info_routes(tiny_server, tiny_parts):
    url, tokenizer = tiny_server.url, tiny_parts[1]
    text = "Hello there, general purpose tokenizer!"
    counted = httpx.post(f"{url}/api/extra/tokencount", json={"prompt": text}, timeout=10).json()
    assert counted["ids"] == tokenizer.encode(text, add_special=False)
    assert counted["value"] == len(counted["ids"])
    assert httpx.get(f"{url}/api/v1/model").json() == {"result": "koboldcpp/tiny"}
    assert httpx.get(f"{url}/api/v1/config/max_context_length").json() == {"value": tiny_parts[0].n_ctx}
    assert httpx.get(f"{url}/api/v1/config/max_length").json()["value"] == 200
    assert httpx.get(f"{url}/api/extra/version").json()["result"] == "KoboldCpp"
    assert httpx.get(f"{url}/api/v1/info/version").status_code == 200


def test_body_without_json_content_type_is_accepted(tiny_server, tiny_parts):
    raw = json.dumps(kobold_body("plain", seed=2, max_length=4))
    answer = httpx.post(f"{tiny_server.url}/api/v1/generate", content=raw,
                        headers={"content-type": "text/plain"}, timeout=30)
    assert answer.status_code == 200
    expected = reference(tiny_parts, tiny_parts[1].encode("plain"), 4, seed=2)
    assert answer.json()["results"][0]["text"] == expected.text
