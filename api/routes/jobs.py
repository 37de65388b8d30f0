from __future__ import annotations

from fastapi import APIRouter, Query

from ragqa.api.deps import ServicesDep
from ragqa.api.errors import ApiError
from ragqa.api.schemas import ErrorResponse, JobOut, JobPage

router = APIRouter(tags=["jobs"])


@router.get("/v1/jobs", response_model=JobPage)
async def list_jobs(
    services: ServicesDep,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000_000),
) -> JobPage:
    return JobPage(jobs=[JobOut(**j.to_json()) for j in services.jobs.store.list(limit=limit, offset=offset)])


@router.get("/v1/jobs/{job_id}", response_model=JobOut, responses={404: {"model": ErrorResponse}})
async def get_job(job_id: str, services: ServicesDep) -> JobOut:
    job = services.jobs.store.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id!r}")
    return JobOut(**job.to_json())


@router.post("/v1/jobs/{job_id}/cancel", response_model=JobOut, responses={404: {"model": ErrorResponse}})
async def cancel_job(job_id: str, services: ServicesDep) -> JobOut:
    job = services.jobs.store.request_cancel(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id!r}")
    return JobOut(**job.to_json())
