"""Collections: list (with sizes), create, delete. One server serves every collection of its data dir; search,
query, chat and documents take a ``collection`` (the server's own when absent)."""

from __future__ import annotations

import anyio
from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from ragqa.api.deps import ReaderDep, ServicesDep, require
from ragqa.api.errors import ApiError
from ragqa.api.records import ResponseModel, model_of
from ragqa.api.schemas import DeleteResponse, ErrorResponse
from ragqa.errors import InputError
from ragqa.retrieval.catalog import CollectionInfo, create_collection, delete_collection, list_collections

router = APIRouter(tags=["collections"])
CollectionOut = model_of(CollectionInfo, "CollectionOut")
_ADMIN = [Depends(require("admin"))]


class CollectionPage(ResponseModel):
    collections: list[CollectionOut]  # type: ignore[valid-type]


class CollectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(..., min_length=1, max_length=64)


@router.get("/v1/collections", response_model=CollectionPage)
async def get_collections(services: ServicesDep, principal: ReaderDep) -> CollectionPage:
    """The collections this key may use, with their document and chunk counts."""
    found = await anyio.to_thread.run_sync(list_collections, services.settings)
    return CollectionPage(
        collections=[
            CollectionOut.model_validate(c, from_attributes=True) for c in found if principal.may_use(c.name)
        ]
    )


@router.post(
    "/v1/collections",
    status_code=201,
    response_model=CollectionOut,
    dependencies=_ADMIN,
    responses={409: {"model": ErrorResponse}},
)
async def post_collection(body: CollectionIn, services: ServicesDep) -> CollectionOut:  # type: ignore[valid-type]
    settings = services.settings_for(body.name)
    try:
        info = await anyio.to_thread.run_sync(create_collection, settings)
    except InputError as exc:
        raise ApiError(409, "collection_exists", str(exc)) from exc
    return CollectionOut.model_validate(info, from_attributes=True)


@router.delete(
    "/v1/collections/{name}",
    response_model=DeleteResponse,
    dependencies=_ADMIN,
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
async def remove_collection(name: str, services: ServicesDep) -> DeleteResponse:
    """Delete a collection for good: its index, its vectors and its uploads. Not the server's own, and not while
    an ingestion job for it is queued or running (409)."""
    settings = services.settings_for(name)
    if name == services.settings.collection:
        raise ApiError(
            409, "collection_in_use", f"{name!r} is this server's own collection (RAGQA_COLLECTION)"
        )
    pending = [
        j for state in ("queued", "running") for j in services.jobs.store.list(state=state, limit=1000)
    ]
    if any(j.collection == name for j in pending):
        raise ApiError(409, "collection_busy", f"an ingestion job for {name!r} is queued or running")
    services.forget(name)
    try:
        await anyio.to_thread.run_sync(delete_collection, settings)
    except InputError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    return DeleteResponse(deleted=[name])
