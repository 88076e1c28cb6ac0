"""Render a model's chat template (``tokenizer.chat_template``) into a prompt string.

Templates come from model files, i.e. from strangers: they run in jinja2's
``ImmutableSandboxedEnvironment`` (no attribute escapes, no mutation of our objects), and
any failure, including the template's own ``raise_exception``, becomes a
``DiagnosticError``. Files without a template get ChatML.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engine.diagnostics import DiagnosticError, error

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class TemplateRaised(Exception):
    """What ``raise_exception(message)`` inside a template raises."""


def _raise_exception(message: str) -> None:
    raise TemplateRaised(str(message))


def _tojson(value: Any, indent: int | None = None, **_: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _environment() -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


def _template_failed(why: str, exc: Exception) -> DiagnosticError:
    return DiagnosticError(
        error(
            "QL-E-CHAT-TEMPLATE",
            "The model's chat template failed",
            f"{why}: {exc}. Use plain completion instead of chat, or a model file with a working template.",
            exception=type(exc).__name__,
        )
    )


@dataclass(frozen=True)
class ChatTemplate:
    source: str  # the Jinja2 text
    bos_token: str = ""
    eos_token: str = ""
    is_fallback: bool = False  # True when the model had no template (ChatML used)

    @classmethod
    def for_tokenizer(cls, tokenizer: Any) -> ChatTemplate:
        """The template of a ``engine.tokenizer.Tokenizer``'s file, or ChatML."""
        source = tokenizer.chat_template
        bos = tokenizer.token_text(tokenizer.bos_id) if tokenizer.bos_id is not None else ""
        eos = tokenizer.token_text(tokenizer.eos_id) if tokenizer.eos_id is not None else ""
        if not source:
            return cls(CHATML_TEMPLATE, bos, eos, is_fallback=True)
        return cls(str(source), bos, eos)

    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        add_generation_prompt: bool = True,
        **extra: Any,
    ) -> str:
        """The prompt text for ``messages`` ([{"role": ..., "content": ...}, ...])."""
        try:
            template = _environment().from_string(self.source)
        except TemplateError as exc:
            raise _template_failed("The template does not parse", exc) from exc
        context = dict(extra)
        context.update(
            messages=[dict(m) for m in messages],
            add_generation_prompt=add_generation_prompt,
            bos_token=self.bos_token,
            eos_token=self.eos_token,
        )
        try:
            return template.render(**context)
        except TemplateRaised as exc:
            raise _template_failed("The template refused these messages", exc) from exc
        except Exception as exc:  # SecurityError, TypeError, UndefinedError, ... from a foreign template
            raise _template_failed("The template failed while rendering", exc) from exc


def render_chat(tokenizer: Any, messages: Sequence[Mapping[str, Any]], add_generation_prompt: bool = True) -> str:
    return ChatTemplate.for_tokenizer(tokenizer).render(messages, add_generation_prompt)
