"""The engine's HTTP API (DESIGN.md §7): KoboldAI and OpenAI routes on FastAPI + uvicorn.

``create_app(state)`` builds the app over an :class:`EngineState`; the state starts
"loading" (every route but /health answers 503) and becomes ready once
``state.attach(LoadedModel)`` is called by the service after the weights are loaded.
"""

from engine.server.app import create_app
from engine.server.state import EngineState, LoadedModel, ServerConfig
from engine.server.worker import GenerationWorker, QueueFull

__all__ = ["EngineState", "GenerationWorker", "LoadedModel", "QueueFull", "ServerConfig", "create_app"]
