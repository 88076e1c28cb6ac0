"""create_app: the FastAPI application over one EngineState."""

from __future__ import annotations

from fastapi import FastAPI

from engine import __version__
from engine.server import health, kobold, openai_api
from engine.server.auth import ApiKeyGate
from engine.server.errors import install_error_handlers
from engine.server.state import EngineState


class JsonBodies:
    """ASGI middleware: every POST body is read as JSON whatever its Content-Type (KoboldCpp
    does the same; some clients send JSON as text/plain or form-encoded)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") == "POST":
            headers = [(k, v) for k, v in scope.get("headers", []) if k.lower() != b"content-type"]
            scope = {**scope, "headers": [*headers, (b"content-type", b"application/json")]}
        await self.app(scope, receive, send)


def create_app(state: EngineState) -> FastAPI:
    app = FastAPI(title="QuantLaunch engine", version=__version__, docs_url=None, redoc_url=None)
    app.state.engine = state
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(kobold.router)
    app.include_router(openai_api.router)
    app.add_middleware(JsonBodies)
    app.add_middleware(ApiKeyGate, state=state)  # added last: runs first
    return app
