"""Chat templates: the demo's own template, the ChatML fallback, and hostile templates."""

from __future__ import annotations

import jinja2
import pytest
from tokenizer_support import write_vocab_gguf

from engine.chat_template import CHATML_TEMPLATE, ChatTemplate, render_chat
from engine.diagnostics import DiagnosticError
from engine.synth_vocab import build_vocab
from engine.tokenizer import Tokenizer

MESSAGES = [{"role": "user", "content": "What is 2+2?"}]


def test_demo_template_matches_plain_jinja(demo_tokenizer):
    """Sandboxed rendering equals plain jinja2 on a benign template (independent renderer)."""
    source = demo_tokenizer.chat_template
    expected = jinja2.Environment(trim_blocks=True, lstrip_blocks=True).from_string(source).render(
        messages=MESSAGES, add_generation_prompt=True
    )
    rendered = render_chat(demo_tokenizer, MESSAGES)
    assert rendered == expected
    assert rendered.startswith("<|im_start|>system\n")
    assert "<|im_start|>user\nWhat is 2+2?<|im_end|>\n" in rendered
    assert rendered.endswith("<|im_start|>assistant\n")
    assert not render_chat(demo_tokenizer, MESSAGES, add_generation_prompt=False).endswith("assistant\n")


def test_demo_template_tokens_are_specials(demo_tokenizer):
    ids = demo_tokenizer.encode(render_chat(demo_tokenizer, MESSAGES), add_special=False)
    assert ids[0] == 1  # <|im_start|>
    assert ids.count(2) == 2  # <|im_end|> after system and user


def test_fallback_is_chatml(tmp_path):
    tok = Tokenizer.from_gguf(write_vocab_gguf(tmp_path / "v.gguf", build_vocab("gpt2", 600)))
    template = ChatTemplate.for_tokenizer(tok)
    assert template.is_fallback and template.source == CHATML_TEMPLATE
    assert template.render(MESSAGES) == "<|im_start|>user\nWhat is 2+2?<|im_end|>\n<|im_start|>assistant\n"


def test_file_template_and_bos_eos_are_used(tmp_path):
    source = "{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{{ eos_token }}{% endfor %}"
    path = write_vocab_gguf(tmp_path / "v.gguf", build_vocab("llama", 600), chat_template=source)
    tok = Tokenizer.from_gguf(path)
    assert render_chat(tok, MESSAGES) == "<s>[user]What is 2+2?</s>"


def test_raise_exception_becomes_diagnostic():
    template = ChatTemplate("{% if messages[0]['role'] != 'system' %}{{ raise_exception('system first') }}{% endif %}")
    with pytest.raises(DiagnosticError) as caught:
        template.render(MESSAGES)
    assert caught.value.diagnostic.code == "QL-E-CHAT-TEMPLATE"
    assert "system first" in caught.value.diagnostic.detail


def test_syntax_error_becomes_diagnostic():
    with pytest.raises(DiagnosticError):
        ChatTemplate("{% for m in messages %}{{ m.content }").render(MESSAGES)


@pytest.mark.parametrize(
    "hostile",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ messages.__class__.__init__.__globals__ }}",
        "{{ raise_exception.__globals__['__builtins__'] }}",
        "{{ cycler.__init__.__globals__.os.popen('echo pwned').read() }}",
        "{% set x = messages.append({'role': 'x', 'content': 'y'}) %}{{ x }}",
        "{{ messages[0].update({'content': 'changed'}) }}",
    ],
)
def test_hostile_templates_are_blocked(hostile):
    messages = [{"role": "user", "content": "hi"}]
    with pytest.raises(DiagnosticError):
        ChatTemplate(hostile).render(messages)
    assert messages == [{"role": "user", "content": "hi"}]


def test_tojson_and_loop_controls_available():
    template = ChatTemplate("{% for m in messages %}{% if loop.index > 1 %}{% break %}{% endif %}{{ m | tojson }}{% endfor %}")
    out = template.render([{"role": "user", "content": "é"}, {"role": "user", "content": "b"}])
    assert out == '{"role": "user", "content": "é"}'
