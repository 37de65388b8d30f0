"""The FastAPI application: routes, error handlers, and one middleware for request ids, auth, rate limits,
body-size limits, metrics and access logs."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles

from ragqa import __version__
from ragqa.api.body_limit import BodyLimitMiddleware
from ragqa.api.errors import error_response, install_error_handlers
from ragqa.api.routes import chat, collections, documents, health, jobs, page, query, search
from ragqa.api.schemas import DocumentsIn
from ragqa.api.services import Services
from ragqa.config import LOOPBACK, Settings
from ragqa.generation.backend import GenerationBackend
from ragqa.principals import LOCAL_ADMIN, principal_for

log = logging.getLogger("ragqa.api")

_OPEN_PATHS = frozenset({"/healthz", "/readyz", "/docs", "/openapi.json", "/redoc", "/", "/v1/info"})
_OPEN_PREFIX = "/static/"  # the page's own files; everything it reads from the API needs a key


def _is_open(path: str) -> bool:
    return path in _OPEN_PATHS or path.startswith(_OPEN_PREFIX)


def _route_label(request: Request) -> str:
    route = request.scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def _api_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


_SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer KEY"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
}


def _openapi(app: FastAPI, keys_required: bool) -> dict[str, Any]:
    """FastAPI's schema plus the models that routes read by hand (the JSON upload body), so every
    ``$ref`` resolves; with API keys configured, the key schemes, so that ``/docs`` can authorize."""
    if app.openapi_schema is None:
        schema = FastAPI.openapi(app)
        components = schema.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        extra = DocumentsIn.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(extra.pop("$defs", {}))
        schemas["DocumentsIn"] = extra
        if keys_required:
            components["securitySchemes"] = _SECURITY_SCHEMES
            for path, operations in schema.get("paths", {}).items():
                if path not in _OPEN_PATHS:
                    for operation in operations.values():
                        operation["security"] = [{name: []} for name in _SECURITY_SCHEMES]
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings, *, backend: GenerationBackend | None = None) -> FastAPI:
    services = Services(settings, backend=backend)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services.start()
        log.info("ragqa API ready: collection %r in %s", settings.collection, settings.data_dir)
        try:
            yield
        finally:
            log.info("shutting down: checkpointing the running ingestion job")
            services.close()

    app = FastAPI(
        title="ragqa",
        version=__version__,
        lifespan=lifespan,
        description="Grounded question answering over your own documents.",
    )
    app.state.services = services
    app.openapi = lambda: _openapi(app, settings.keys_configured)  # type: ignore[method-assign]
    install_error_handlers(app)
    for module in (query, collections, search, chat, documents, jobs, health, page):
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=page.STATIC_DIR), name="static")

    max_body = int(settings.api_max_body_mb * 1024 * 1024)
    too_large = f"request body is over the {settings.api_max_body_mb:g} MB limit"
    app.add_middleware(
        BodyLimitMiddleware, max_bytes=max_body, message=too_large
    )  # added first, so it runs inside the guard below

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex[:16]
        started = time.perf_counter()
        response = await _guarded(request, call_next)
        elapsed = time.perf_counter() - started
        label = _route_label(request)
        services.metrics.requests.labels(label, request.method, str(response.status_code)).inc()
        services.metrics.latency.labels(label).observe(elapsed)
        if response.status_code >= 400:
            services.metrics.errors.labels(str(response.status_code)).inc()
        response.headers["X-Request-ID"] = request_id
        client = request.client.host if request.client else "-"
        log.info(
            "%s %s %s %d %.1fms request_id=%s",
            client,
            request.method,
            request.url.path,
            response.status_code,
            elapsed * 1000,
            request_id,
            extra={
                "request_id": request_id,
                "client": client,
                "method": request.method,
                "path": request.url.path,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 1),
            },
        )
        return response

    async def _guarded(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > max_body:
            return error_response(413, "payload_too_large", too_large)
        client = request.client.host if request.client else "unknown"
        local = request.scope.get("server") or ("127.0.0.1", 0)
        if not settings.keys_configured and local[0] not in LOOPBACK:
            return error_response(
                403,
                "api_keys_required",
                "this server has no API keys, so it answers only on 127.0.0.1; set RAGQA_API_KEY_HASHES "
                "(make a hash with `ragqa hash-key`)",
            )
        key = _api_key(request)
        principal = principal_for(key, settings) if key and settings.keys_configured else None
        valid_key = principal is not None
        if not settings.keys_configured:
            principal = LOCAL_ADMIN  # loopback without keys: the one local user
        request.state.principal = principal
        request.state.authorized = principal is not None
        if settings.keys_configured and not _is_open(path) and not valid_key:
            wait = services.auth_failures.check(client)
            if wait > 0:  # guessing keys: slow down, whatever the key
                return error_response(
                    429,
                    "too_many_failed_authentications",
                    "too many failed authentications from this address; wait before trying again",
                    {"Retry-After": str(max(1, int(wait + 0.999)))},
                )
            message = (
                "unknown API key"
                if key
                else "an API key is required (Authorization: Bearer KEY or X-API-Key)"
            )
            return error_response(401, "unauthorized", message, {"WWW-Authenticate": "Bearer"})
        if not _is_open(path):
            # a bucket per configured key; anyone else (any made-up key included) is limited by address
            wait = services.limiter.check(f"key:{key}" if valid_key else f"addr:{client}")
            if wait > 0:
                return error_response(
                    429,
                    "rate_limited",
                    "too many requests; slow down",
                    {"Retry-After": str(max(1, int(wait + 0.999)))},
                )
        return await call_next(request)

    return app
