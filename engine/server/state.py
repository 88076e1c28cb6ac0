"""The server's state: its frozen configuration and the model once it is loaded.

One :class:`EngineState` per app (``app.state.engine``), never module-level: it starts
"loading" and becomes ready when the service attaches the loaded model.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.generate import GenerationParams
from engine.server.errors import ApiError
from engine.server.worker import GenerationWorker, Job, QueueFull
from engine.settings import SamplerDefaults


@dataclass(frozen=True)
class ServerConfig:
    model_name: str = "model"
    api_key: str = ""  # "" = no key required
    sampler: SamplerDefaults = field(default_factory=SamplerDefaults)
    max_waiting: int = 8  # requests that may wait behind the running one (then 429)


@dataclass(frozen=True)
class LoadedModel:
    model: Any  # engine.model.LlamaModel
    tokenizer: Any  # engine.tokenizer.Tokenizer
    worker: GenerationWorker

    @property
    def n_ctx(self) -> int:
        return int(self.model.n_ctx)

    @cached_property
    def longest_token(self) -> int:
        """UTF-8 bytes of the longest token text: no token stands for more characters of a prompt
        (byte-level tokens hold a character per byte, "▁" and "<0x41>" stand for one byte)."""
        return max((len(text.encode("utf-8")) for text in self.tokenizer.vocab.tokens), default=1)

    def submit(self, prompt_ids: list[int], params: GenerationParams) -> Job:
        """Queue a generation; 429 when the waiting line is full."""
        try:
            return self.worker.submit(prompt_ids, params)
        except QueueFull as exc:
            raise ApiError(429, f"The server is busy ({exc}); try again shortly.", "rate_limit_error") from None


class EngineState:
    def __init__(self, config: ServerConfig):
        self.config = config
        self.started = time.time()
        self._loaded: LoadedModel | None = None
        self._lock = threading.Lock()

    @property
    def ready(self) -> bool:
        with self._lock:
            return self._loaded is not None

    def attach(self, loaded: LoadedModel) -> None:
        with self._lock:
            self._loaded = loaded

    def detach(self) -> LoadedModel | None:
        with self._lock:
            loaded, self._loaded = self._loaded, None
            return loaded

    def require(self) -> LoadedModel:
        """The loaded model, or a 503 while the engine is still loading."""
        with self._lock:
            loaded = self._loaded
        if loaded is None:
            raise ApiError(503, "The model is still loading; try again when /health answers 200.", "unavailable")
        return loaded
