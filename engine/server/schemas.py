"""Request bodies. Unknown fields are ignored (clients send many); numbers are finite and
within the ranges the sampler handles, so a bad value is a 422 naming the field, never a
crash inside the generation."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

_SURROGATE = re.compile("[\ud800-\udfff]")


def _unicode_text(value: str) -> str:
    """JSON may escape a lone UTF-16 surrogate ("\\ud800"); no tokenizer can encode one."""
    if (found := _SURROGATE.search(value)) is not None:
        where = f"\\u{ord(found.group()):04x} at character {found.start()}"
        raise PydanticCustomError("unpaired_surrogate",
                                  f"Input holds an unpaired UTF-16 surrogate ({where}); send valid Unicode text")
    return value


Text = Annotated[str, AfterValidator(_unicode_text)]  # text that reaches the tokenizer or the template


class Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)


class SamplerFields(Lenient):
    """Sampler fields common to both APIs (None = the profile's default)."""

    temperature: float | None = Field(None, ge=0)
    top_p: float | None = Field(None, ge=0, le=1)
    top_k: int | None = Field(None, ge=0)
    min_p: float | None = Field(None, ge=0, le=1)
    typical: float | None = Field(None, ge=0, le=1)


class KoboldGenerateRequest(SamplerFields):
    prompt: Text
    max_length: int | None = Field(None, ge=1)
    max_context_length: int | None = Field(None, ge=1)
    rep_pen: float | None = Field(None, gt=0, le=100)
    rep_pen_range: int | None = None
    sampler_seed: int | None = None
    stop_sequence: list[Text] | None = None
    ban_eos_token: bool = False
    genkey: str | None = None


class TokenCountRequest(Lenient):
    prompt: Text


class StreamOptions(Lenient):
    include_usage: bool = False


class OpenAIFields(SamplerFields):
    model: str | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    seed: int | None = None
    stop: Text | list[Text] | None = None
    stream: bool | None = False  # OpenAI documents null for stream and n: the default
    stream_options: StreamOptions | None = None
    n: int | None = Field(1, ge=1, le=1)
    repeat_penalty: float | None = Field(None, gt=0, le=100)
    ignore_eos: bool = False

    def stop_list(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


class CompletionRequest(OpenAIFields):
    prompt: Text | list[Text] = Field(description="one prompt (a list must hold exactly one string)")


class ContentPart(Lenient):
    type: str = "text"
    text: Text | None = None


class ChatMessage(Lenient):
    role: Text
    content: Text | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class ChatCompletionRequest(OpenAIFields):
    messages: list[ChatMessage] = Field(min_length=1)
