"""Optional API key: every route but /health requires it when the profile sets one.

Accepted: ``Authorization: Bearer KEY`` (OpenAI clients, KoboldCpp's --password),
``X-API-Key: KEY`` and ``apikey: KEY`` (KoboldAI / Horde-style clients)."""

from __future__ import annotations

import hmac

from fastapi import Request

from engine.server.errors import ApiError


def presented_key(request: Request) -> str:
    auth = request.headers.get("authorization", "")
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.headers.get("x-api-key") or request.headers.get("apikey") or ""


async def require_api_key(request: Request) -> None:
    expected = request.app.state.engine.config.api_key
    if not expected:
        return
    if not hmac.compare_digest(presented_key(request).encode(), expected.encode()):
        raise ApiError(401, "A valid API key is required (Authorization: Bearer KEY).", "authentication_error")
