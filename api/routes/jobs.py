from __future__ import annotations

from fastapi import APIRouter, Query

from ragqa.api.deps import ServicesDep
from ragqa.api.errors import ApiError
from ragqa.api.schemas import ErrorResponse, JobOut, JobPage
from ragqa.ingest.jobs import Job

router = APIRouter(tags=["jobs"])
_NOT_FOUND = {404: {"model": ErrorResponse}}


def _out(job: Job | None, job_id: str) -> JobOut:
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id!r}")
    return JobOut.model_validate(job, from_attributes=True)


@router.get("/v1/jobs", response_model=JobPage)
async def list_jobs(
    services: ServicesDep,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=1_000_000_000),
) -> JobPage:
    jobs = services.jobs.store.list(limit=limit, offset=offset)
    return JobPage(jobs=[_out(job, job.id) for job in jobs])


@router.get("/v1/jobs/{job_id}", response_model=JobOut, responses=_NOT_FOUND)
async def get_job(job_id: str, services: ServicesDep) -> JobOut:
    return _out(services.jobs.store.get(job_id), job_id)


@router.post("/v1/jobs/{job_id}/cancel", response_model=JobOut, responses=_NOT_FOUND)
async def cancel_job(job_id: str, services: ServicesDep) -> JobOut:
    return _out(services.jobs.store.request_cancel(job_id), job_id)
