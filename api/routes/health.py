from __future__ import annotations

from collections.abc import Callable

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ragqa.api.deps import ServicesDep
from ragqa.api.schemas import HealthResponse
from ragqa.errors import RagqaError
from ragqa.generation.verify.binding_model import shipped_binding
from ragqa.generation.verify.learned import default_verifier
from ragqa.generation.verify.reader import default_reader
from ragqa.types import EMBEDDED_BACKENDS

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthResponse)
async def healthz() -> HealthResponse:
    """The process is up."""
    return HealthResponse(status="ok")


@router.get("/readyz", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
async def readyz(request: Request, services: ServicesDep) -> JSONResponse:
    """The index is loaded and verified, the generation backend answers and the claim verifier's weights match
    their checksum. Readiness never loads the answer model (the embedded one loads on the first question); the
    checks' details need a key when keys are set."""

    def check() -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            reader = services.searcher().reader
            reader.verify()
            stats = reader.stats()
            checks["index"] = f"ok: generation {stats['generation']}, {stats['chunks']} chunks"
        except RagqaError as exc:
            checks["index"] = f"{exc.code}: {exc}"
        if services.backend_loaded or services.settings.llm_backend not in EMBEDDED_BACKENDS:
            try:
                checks["generation"] = "ok" if services.backend().health() else "unreachable"
            except RagqaError as exc:
                checks["generation"] = f"{exc.code}: {exc}"
        elif services.preloading:
            checks["generation"] = "ok: the embedded model is loading in the background"
        elif services.preload_error is not None:  # the first question tries again
            checks["generation"] = f"{services.preload_error.code}: {services.preload_error}"
        else:
            checks["generation"] = "ok: embedded model loads on the first question"
        settings = services.settings
        models: tuple[tuple[str, bool, Callable[[], object]], ...] = (
            ("binding", settings.verify_binding, shipped_binding),  # its weights' checksum, once per process
            ("reader", settings.verify_reader, lambda: default_reader().load()),  # checksum and compile, once
            ("verifier", settings.verify_learned, lambda: default_verifier().load()),
        )
        for name, wanted, load in models:
            if settings.verify != "off" and wanted:
                try:
                    load()
                    checks[name] = "ok"
                except RagqaError as exc:
                    checks[name] = f"{exc.code}: {exc}"
        return checks

    checks = await anyio.to_thread.run_sync(check)
    ready = all(v.startswith("ok") for v in checks.values())
    shown = checks if getattr(request.state, "authorized", False) else {}
    body = HealthResponse(status="ready" if ready else "not_ready", checks=shown)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics(services: ServicesDep) -> Response:
    """Prometheus text format."""
    await anyio.to_thread.run_sync(services.update_gauges)
    return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")
