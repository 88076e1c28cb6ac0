"""The bundled demo model (SmolLM2-135M-Instruct, its own chat template) behind the server."""

from __future__ import annotations

import openai
import pytest

from engine.chat_template import render_chat
from engine.demo import demo_model_path
from tests.server.conftest import serving
from tests.server.reference import reference

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_parts():
    path = demo_model_path()
    if path is None:
        pytest.skip("demo model package not installed")
    from engine.model import load_model
    from engine.tokenizer import Tokenizer

    model = load_model(path, n_ctx=256)
    yield model, Tokenizer.from_gguf(path)
    model.close()


def test_demo_chat_greedy_matches_direct_generation(demo_parts):
    tokenizer = demo_parts[1]
    assert tokenizer.chat_template  # the file brings its own template
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    text = render_chat(tokenizer, messages)
    ids = tokenizer.encode(text, add_special=False)
    expected = reference(demo_parts, ids, 3, seed=0, temperature=0.0)
    with serving(demo_parts) as running:
        client = openai.OpenAI(base_url=f"{running.url}/v1", api_key="x", max_retries=0, timeout=120)
        answer = client.chat.completions.create(model="demo", messages=messages, max_tokens=3, temperature=0,
                                                extra_body={"repeat_penalty": 1.0})
    assert answer.choices[0].message.content == expected.text
    assert answer.usage.prompt_tokens == len(ids)
