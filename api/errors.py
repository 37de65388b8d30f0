"""Every error leaves the API as JSON ``{"error": {"code", "message"}}`` with a fitting status; never a traceback."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ragqa.errors import (
    CollectionBusyError,
    ConfigError,
    DiskFullError,
    DocumentError,
    GenerationError,
    GenerationTimeoutError,
    GenerationUnavailableError,
    IndexCorruptError,
    IndexMismatchError,
    IndexMissingError,
    InputError,
    ModelFileError,
    RagqaError,
    ReadOnlyError,
    StorageError,
    VectorStoreError,
)

log = logging.getLogger(__name__)

_STATUS: list[tuple[type[RagqaError], int]] = [
    (InputError, 422),
    (DocumentError, 422),
    (ConfigError, 500),
    (IndexMissingError, 503),
    (VectorStoreError, 503),
    (IndexCorruptError, 503),
    (IndexMismatchError, 409),
    (CollectionBusyError, 409),
    (DiskFullError, 507),
    (ReadOnlyError, 503),
    (StorageError, 500),
    (GenerationTimeoutError, 504),
    (GenerationUnavailableError, 503),
    (ModelFileError, 503),
    (GenerationError, 502),
]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


class ApiError(Exception):
    """An error raised by the API layer itself (auth, limits, unknown ids)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


def status_for(exc: RagqaError) -> int:
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 500)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.exception_handler(RagqaError)
    async def _ragqa(request: Request, exc: RagqaError) -> JSONResponse:
        return error_response(status_for(exc), exc.code, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'] if p != 'body') or 'body'}: {err['msg']}"
            for err in exc.errors()
        )
        return error_response(422, "invalid_request", problems[:2000])

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "internal server error; see the server log")
