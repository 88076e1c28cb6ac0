"""Server-sent events, incrementally: bytes in, ``data:`` payloads out (pure, no Qt)."""

from __future__ import annotations

import json
from typing import Any

DONE_SENTINEL = "[DONE]"  # OpenAI's end-of-stream marker


class SseDecoder:
    """Feed network chunks; get back the complete ``data:`` payloads seen so far."""

    def __init__(self) -> None:
        self._buffer = ""
        self._data_lines: list[str] = []

    def feed(self, chunk: bytes | str) -> list[str]:
        text = chunk.decode("utf-8", errors="replace") if isinstance(chunk, bytes) else chunk
        self._buffer += text.replace("\r\n", "\n")
        payloads: list[str] = []
        while "\n" in self._buffer:
            line, self._buffer = self._buffer.split("\n", 1)  # one line, rest stays buffered
            if line == "":
                if self._data_lines:
                    payloads.append("\n".join(self._data_lines))
                    self._data_lines = []
            elif line.startswith("data:"):
                self._data_lines.append(line[5:].removeprefix(" "))  # "data: x" -> "x"
        return payloads


def chat_delta_text(payload: str) -> str:
    """The text of one streamed chat-completion chunk ("" for role-only or final chunks)."""
    if payload.strip() == DONE_SENTINEL:
        return ""
    obj: Any = json.loads(payload)
    choices = obj.get("choices") or [{}]
    delta = choices[0].get("delta") or {}
    return str(delta.get("content") or "")
