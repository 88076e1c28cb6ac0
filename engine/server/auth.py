"""Optional API key: every route but /health requires it when the profile sets one.

Accepted: ``Authorization: Bearer KEY`` (OpenAI clients, KoboldCpp's --password),
``X-API-Key: KEY`` and ``apikey: KEY`` (KoboldAI / Horde-style clients).

Checked by an ASGI middleware, before the route reads the body: a client without the key
gets 401 whatever it sends (not a 422 about its body, and no body parsed for it)."""

from __future__ import annotations

import hmac

from fastapi import Request

from engine.server.errors import ApiError, error_response
from engine.server.state import EngineState

OPEN_PATHS = frozenset({"/health"})


def presented_key(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or request.headers.get("apikey") or ""


class ApiKeyGate:
    """ASGI middleware: 401 for an HTTP request without the key (when one is set)."""

    def __init__(self, app, state: EngineState):
        self.app, self.state = app, state

    async def __call__(self, scope, receive, send):
        expected = self.state.config.api_key
        if scope["type"] == "http" and expected and scope.get("path") not in OPEN_PATHS:
            request = Request(scope)
            if not hmac.compare_digest(presented_key(request).encode(), expected.encode()):
                error = ApiError(401, "A valid API key is required (Authorization: Bearer KEY).", "authentication_error")
                await error_response(request, error)(scope, receive, send)
                return
        await self.app(scope, receive, send)
