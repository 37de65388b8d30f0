from __future__ import annotations

from fastapi import APIRouter

from ragqa.api.deps import PageDep, ReaderDep, ServicesDep, WriterDep
from ragqa.api.errors import ApiError
from ragqa.api.schemas import ErrorResponse, JobOut, JobPage
from ragqa.ingest.jobs import Job
from ragqa.principals import Principal

router = APIRouter(tags=["jobs"])
_NOT_FOUND = {404: {"model": ErrorResponse}}


def _owner(principal: Principal) -> str | None:
    """Whose jobs a caller sees: an admin everyone's; any other key its own."""
    return None if principal.role == "admin" else principal.name or ""


def _out(job: Job | None, job_id: str, principal: Principal) -> JobOut:
    owner = _owner(principal)
    if job is None or (owner is not None and job.owner != owner):  # another key's job: as if it did not exist
        raise ApiError(404, "not_found", f"no job {job_id!r}")
    return JobOut.model_validate(job, from_attributes=True)


@router.get("/v1/jobs", response_model=JobPage)
async def list_jobs(services: ServicesDep, page: PageDep, principal: ReaderDep) -> JobPage:
    jobs = services.jobs.store.list(limit=page.limit, offset=page.offset, owner=_owner(principal))
    return JobPage(jobs=[_out(job, job.id, principal) for job in jobs])


@router.get("/v1/jobs/{job_id}", response_model=JobOut, responses=_NOT_FOUND)
async def get_job(job_id: str, services: ServicesDep, principal: ReaderDep) -> JobOut:
    return _out(services.jobs.store.get(job_id), job_id, principal)


@router.post("/v1/jobs/{job_id}/cancel", response_model=JobOut, responses=_NOT_FOUND)
async def cancel_job(job_id: str, services: ServicesDep, principal: WriterDep) -> JobOut:
    _out(services.jobs.store.get(job_id), job_id, principal)  # 404 before touching another key's job
    return _out(services.jobs.store.request_cancel(job_id), job_id, principal)
