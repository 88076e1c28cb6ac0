"""Request bodies. Unknown fields are ignored (clients send many); numbers are finite and
within the ranges the sampler handles, so a bad value is a 422 naming the field, never a
crash inside the generation."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


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
    prompt: str
    max_length: int | None = Field(None, ge=1)
    max_context_length: int | None = Field(None, ge=1)
    rep_pen: float | None = Field(None, gt=0, le=100)
    rep_pen_range: int | None = None
    sampler_seed: int | None = None
    stop_sequence: list[str] | None = None
    ban_eos_token: bool = False
    genkey: str | None = None


class TokenCountRequest(Lenient):
    prompt: str


class StreamOptions(Lenient):
    include_usage: bool = False


class OpenAIFields(SamplerFields):
    model: str | None = None
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    seed: int | None = None
    stop: str | list[str] | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: int = Field(1, ge=1, le=1)
    repeat_penalty: float | None = Field(None, gt=0, le=100)
    ignore_eos: bool = False

    def stop_list(self) -> tuple[str, ...]:
        if self.stop is None:
            return ()
        return (self.stop,) if isinstance(self.stop, str) else tuple(self.stop)


class CompletionRequest(OpenAIFields):
    prompt: str | list[str] = Field(description="one prompt (a list must hold exactly one string)")


class ContentPart(Lenient):
    type: str = "text"
    text: str | None = None


class ChatMessage(Lenient):
    role: str
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "".join(part.text or "" for part in self.content if part.type == "text")


class ChatCompletionRequest(OpenAIFields):
    messages: list[ChatMessage] = Field(min_length=1)
