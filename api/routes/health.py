from __future__ import annotations

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

from ragqa.api.deps import ServicesDep
from ragqa.api.schemas import HealthResponse
from ragqa.errors import RagqaError

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthResponse)
async def healthz() -> HealthResponse:
    """The process is up."""
    return HealthResponse(status="ok")


@router.get("/readyz", response_model=HealthResponse, responses={503: {"model": HealthResponse}})
async def readyz(services: ServicesDep) -> JSONResponse:
    """The index is loaded and the generation backend answers."""

    def check() -> dict[str, str]:
        checks: dict[str, str] = {}
        try:
            stats = services.searcher().reader.stats()
            checks["index"] = f"ok: generation {stats['generation']}, {stats['chunks']} chunks"
        except RagqaError as exc:
            checks["index"] = f"{exc.code}: {exc}"
        try:
            checks["generation"] = "ok" if services.backend().health() else "unreachable"
        except RagqaError as exc:
            checks["generation"] = f"{exc.code}: {exc}"
        return checks

    checks = await anyio.to_thread.run_sync(check)
    ready = all(v.startswith("ok") for v in checks.values())
    body = HealthResponse(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", response_class=Response)
async def metrics(services: ServicesDep) -> Response:
    """Prometheus text format."""
    return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")
