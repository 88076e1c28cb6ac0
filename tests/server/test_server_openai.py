"""OpenAI endpoints through the official ``openai`` client over loopback HTTP."""

from __future__ import annotations

import openai
import pytest

from engine.chat_template import CHATML_TEMPLATE
from tests.server.reference import reference

EXTRA = {"top_k": 0, "min_p": 0.0, "typical": 1.0, "repeat_penalty": 1.0}


@pytest.fixture
def client(tiny_server):
    return openai.OpenAI(base_url=f"{tiny_server.url}/v1", api_key="unused", max_retries=0, timeout=30)


def chatml_ids(tokenizer, messages):
    """Independent rendering of the synthetic file's ChatML template (no jinja)."""
    text = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    return tokenizer.encode(text + "<|im_start|>assistant\n", add_special=False)


def test_models_lists_the_loaded_model(client):
    assert [m.id for m in client.models.list().data] == ["tiny"]


def test_completion_matches_direct_generation(client, tiny_parts):
    answer = client.completions.create(model="tiny", prompt="In the beginning", max_tokens=10, seed=21,
                                       temperature=0.9, top_p=0.95, extra_body=EXTRA)
    expected = reference(tiny_parts, tiny_parts[1].encode("In the beginning"), 10, seed=21)
    assert answer.choices[0].text == expected.text
    assert answer.usage.prompt_tokens == expected.n_prompt
    assert answer.usage.completion_tokens == expected.n_generated
    assert answer.usage.total_tokens == expected.n_prompt + expected.n_generated


def test_streamed_completion_equals_the_plain_one(client):
    kwargs = dict(model="tiny", prompt="Stream me", max_tokens=14, seed=4, temperature=0.8,
                  extra_body={**EXTRA, "ignore_eos": True})
    plain = client.completions.create(**kwargs)
    chunks = list(client.completions.create(stream=True, stream_options={"include_usage": True}, **kwargs))
    assert "".join(c.choices[0].text for c in chunks) == plain.choices[0].text
    assert chunks[-1].choices[0].finish_reason == "length"
    assert chunks[-1].usage.completion_tokens == 14


def test_chat_uses_the_files_template(client, tiny_parts):
    tokenizer = tiny_parts[1]
    assert tokenizer.chat_template is not None and "im_start" in tokenizer.chat_template
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi!"}]
    answer = client.chat.completions.create(model="tiny", messages=messages, max_tokens=8, seed=9,
                                            temperature=0.9, top_p=0.95, extra_body=EXTRA)
    expected = reference(tiny_parts, chatml_ids(tokenizer, messages), 8, seed=9)
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].message.content == expected.text
    assert answer.usage.prompt_tokens == expected.n_prompt


def test_streamed_chat_equals_the_plain_one(client):
    kwargs = dict(model="tiny", messages=[{"role": "user", "content": "Count"}], max_tokens=12, seed=8,
                  temperature=0.7, extra_body={**EXTRA, "ignore_eos": True})
    plain = client.chat.completions.create(**kwargs)
    chunks = list(client.chat.completions.create(stream=True, **kwargs))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == plain.choices[0].message.content
    assert chunks[-1].choices[0].finish_reason == "length"


def test_chat_fallback_template_when_the_file_has_none(tmp_path):
    from engine.model import load_model
    from engine.synth import write_synthetic_model
    from engine.synth_spec import SynthSpec
    from engine.tokenizer import Tokenizer
    from tests.server.conftest import serving

    path = write_synthetic_model(tmp_path / "plain.gguf", SynthSpec(), rng_seed=3)
    model, tokenizer = load_model(path, n_ctx=128), Tokenizer.from_gguf(path)
    assert tokenizer.chat_template is None and "im_start" in CHATML_TEMPLATE
    with serving((model, tokenizer)) as running:
        client = openai.OpenAI(base_url=f"{running.url}/v1", api_key="x", max_retries=0, timeout=30)
        messages = [{"role": "user", "content": "hello"}]
        answer = client.chat.completions.create(model="tiny", messages=messages, max_tokens=5, seed=1,
                                                temperature=0.9, top_p=0.95, extra_body=EXTRA)
    expected = reference((model, tokenizer), chatml_ids(tokenizer, messages), 5, seed=1)
    model.close()
    assert answer.choices[0].message.content == expected.text
    assert answer.usage.prompt_tokens == expected.n_prompt
