from __future__ import annotations

from fastapi import APIRouter

from ragqa.api.deps import PageDep, ServicesDep
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
async def list_jobs(services: ServicesDep, page: PageDep) -> JobPage:
    jobs = services.jobs.store.list(limit=page.limit, offset=page.offset)
    return JobPage(jobs=[_out(job, job.id) for job in jobs])


@router.get("/v1/jobs/{job_id}", response_model=JobOut, responses=_NOT_FOUND)
async def get_job(job_id: str, services: ServicesDep) -> JobOut:
    return _out(services.jobs.store.get(job_id), job_id)


@router.post("/v1/jobs/{job_id}/cancel", response_model=JobOut, responses=_NOT_FOUND)
async def cancel_job(job_id: str, services: ServicesDep) -> JobOut:
    return _out(services.jobs.store.request_cancel(job_id), job_id)
