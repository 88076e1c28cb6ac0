"""Error answers: short JSON messages naming what is wrong; the server survives all of them.

OpenAI routes (``/v1/...``) answer ``{"error": {"message", "type", "param", "code"}}``;
the KoboldAI routes answer ``{"detail": {"msg", "type"}}`` as KoboldCpp does.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from engine.diagnostics import DiagnosticError
from engine.json_text import why_not_json

LOG = logging.getLogger("quantlaunch.server")


class ApiError(Exception):
    def __init__(self, status: int, message: str, kind: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.kind, self.param, self.code = status, message, kind, param, code


def error_response(request: Request, error: ApiError) -> JSONResponse:
    if request.url.path.startswith("/v1/"):
        body = {"error": {"message": error.message, "type": error.kind, "param": error.param, "code": error.code}}
    else:
        body = {"detail": {"msg": error.message, "type": error.kind}}
    headers = {"WWW-Authenticate": "Bearer"} if error.status == 401 else None
    return JSONResponse(body, status_code=error.status, headers=headers)


def _field_parts(loc) -> list[str]:
    """The field names and indices of an error's location; pydantic also puts a union member's
    label there ("list[ContentPart]", "function-after[...]"), which is not a field: dropped."""
    return [str(p) for p in loc if p != "body" and (isinstance(p, int) or str(p).isidentifier())]


def validation_message(exc: RequestValidationError) -> tuple[str, str]:
    """(field, "field: what is wrong") for the first problem of an invalid body. A union field
    (a string or a list) fails once per member: the member that got furthest names the problem
    (``stop: ["a", 5]`` -> "stop.1: ...", not "stop.str: ...")."""
    errors = exc.errors() or [{"loc": ("body",), "msg": "invalid request"}]
    if errors[0].get("type") == "json_invalid":
        return "body", "body: the request body is not valid JSON"
    field = _field_parts(errors[0].get("loc", ()))[:1]
    same_field = [e for e in errors if _field_parts(e.get("loc", ()))[:1] == field]
    chosen = max(same_field, key=lambda e: len(_field_parts(e.get("loc", ()))))  # first of the deepest
    where = ".".join(_field_parts(chosen.get("loc", ()))) or "body"
    return where, f"{where}: {chosen.get('msg', 'invalid value')}"


def _unreadable_body(exc: StarletteHTTPException) -> ApiError | None:
    """FastAPI answers a body that json.loads refuses with something other than a JSONDecodeError
    (bytes that are not UTF-8, nesting too deep, a number of thousands of digits) with a bare 400
    "There was an error parsing the body": the same answer as any other body that is not JSON."""
    cause = exc.__cause__
    if exc.status_code != 400 or not isinstance(cause, ValueError | RecursionError):
        return None
    return ApiError(422, f"body: the request body is not valid JSON ({why_not_json(cause)})", param="body")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        field_name, message = validation_message(exc)
        return error_response(request, ApiError(422, message, param=field_name))

    @app.exception_handler(DiagnosticError)
    async def _diagnostic(request: Request, exc: DiagnosticError) -> JSONResponse:
        diag = exc.diagnostic
        return error_response(request, ApiError(400, f"{diag.title}: {diag.detail}", code=diag.code))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if (unreadable := _unreadable_body(exc)) is not None:
            return error_response(request, unreadable)
        kind = "not_found" if exc.status_code == 404 else "invalid_request_error"
        return error_response(request, ApiError(exc.status_code, str(exc.detail), kind))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        LOG.exception("unexpected error on %s", request.url.path)
        return error_response(request, ApiError(500, f"internal error: {type(exc).__name__}", "server_error"))
