from __future__ import annotations

import anyio
from fastapi import APIRouter

from ragqa.api.deps import ReaderDep, ServicesDep, collection_for
from ragqa.api.schemas import ErrorResponse, SearchRequest, SearchResponse, search_filter

router = APIRouter(tags=["retrieval"])


@router.post(
    "/v1/search",
    response_model=SearchResponse,
    responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}},
)
async def search(body: SearchRequest, services: ServicesDep, principal: ReaderDep) -> SearchResponse:
    """Fused hits with per-retriever ranks and scores; no generation."""

    collection = collection_for(principal, services, body.collection)

    def run() -> SearchResponse:
        if services.created_empty(collection):
            return SearchResponse(hits=[], mode=body.mode, timings_ms={})
        result = services.searcher(collection).search(
            body.query, mode=body.mode, k=body.k, search_filter=search_filter(body.filter, principal)
        )
        services.metrics.observe_stages({k: v for k, v in result.timings_ms.items() if k != "total"})
        return SearchResponse.model_validate(
            {"hits": [h.to_json() for h in result.hits], "mode": result.mode, "timings_ms": result.timings_ms}
        )

    return await anyio.to_thread.run_sync(run, limiter=services.model_slots)
