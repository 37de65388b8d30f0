from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool

from ragqa.api.deps import AdmittedDep, ReaderDep, ServicesDep, collection_for
from ragqa.api.schemas import ErrorResponse, QueryRequest, QueryResponse, search_filter
from ragqa.api.services import Services
from ragqa.errors import RagqaError
from ragqa.generation.answerer import Answer, AnswerEvent
from ragqa.generation.sampling import sampling_params
from ragqa.retrieval.filters import SearchFilter

router = APIRouter(tags=["answers"])

_QUERY_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"text/event-stream": {}},
        "description": "An answer, or SSE events when stream is true",
    },
    422: {"model": ErrorResponse},
    503: {"model": QueryResponse, "description": "Generation unavailable; retrieved sources still included"},
    504: {"model": QueryResponse, "description": "Generation timed out; retrieved sources still included"},
}


def answer_status(answer: Answer) -> int:
    if answer.status != "generation_unavailable":
        return 200
    return 504 if answer.error_code == "generation_timeout" else 503


def record(services: Services, answer: Answer) -> None:
    services.metrics.observe_stages(answer.timings_ms)
    if answer.status == "ok" and "generation" in answer.timings_ms:
        services.answer_seconds.append(sum(answer.timings_ms.get(k, 0.0) for k in _STAGES) / 1000)
    services.metrics.answers.labels(answer.status, answer.refusal_reason or "").inc()
    if answer.usage:
        services.metrics.tokens.inc(answer.usage.completion_tokens)


_STAGES = ("rewrite", "retrieval", "generation", "retry", "verification")
KEEPALIVE = ": keep-alive\n\n"  # an SSE comment: clients ignore it, proxies see a live connection


async def in_model_slot(services: Services, events: Iterator[str]) -> AsyncIterator[str]:
    """Run a streamed answer in the thread pool while holding one of ``API_MODEL_CONCURRENCY``'s slots, as a
    blocking answer does; while the model is silent (reading a long prompt) send a keep-alive comment every
    ``API_SSE_KEEPALIVE`` seconds, so that proxies and clients with idle timeouts do not drop the stream."""
    every = services.settings.api_sse_keepalive
    async with services.model_slots:
        chunks = iterate_in_threadpool(events).__aiter__()
        pending: asyncio.Future[str] | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(chunks.__anext__())
                done, _ = await asyncio.wait({pending}, timeout=every)
                if not done:
                    yield KEEPALIVE
                    continue
                try:
                    chunk = pending.result()
                except StopAsyncIteration:
                    break
                pending = None
                yield chunk
        finally:
            if pending is not None and not pending.done():
                pending.cancel()


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def _options(body: QueryRequest, scope: SearchFilter | None) -> dict[str, Any]:
    """The answerer's keyword arguments for a query body (the same for ``answer`` and ``stream``)."""
    params = sampling_params(**body.sampling.model_dump())
    return {
        "params": params,
        "k": body.k,
        "mode": body.mode,
        "verify": body.verify,
        "search_filter": scope,
        "conversation": body.conversation(),
    }


def _events(services: Services, body: QueryRequest, scope: SearchFilter | None) -> Iterator[str]:
    try:
        events = services.answerer(body.collection).stream(body.question, **_options(body, scope))
        for event in events:
            yield _render(services, event)
    except RagqaError as exc:
        yield sse("error", {"code": exc.code, "message": str(exc)})


def _render(services: Services, event: AnswerEvent) -> str:
    if event.kind == "sources":
        return sse(
            "sources", {"sources": [{"n": i, **h.to_json()} for i, h in enumerate(event.sources or [], 1)]}
        )
    if event.kind == "token":
        return sse("token", {"delta": event.delta})
    assert event.answer is not None
    record(services, event.answer)
    if event.answer.status == "generation_unavailable":
        return sse(
            "error",
            {
                "code": event.answer.error_code,
                "message": event.answer.error,
                "answer": event.answer.to_json(),
            },
        )
    data = event.answer.to_json()
    claims = sse("claims", {"claims": data["claims"], "verification": data["verification"]})
    return claims + sse("done", data)


@router.post("/v1/query", response_model=QueryResponse, responses=_QUERY_RESPONSES)
async def query(body: QueryRequest, services: ServicesDep, principal: ReaderDep, _: AdmittedDep) -> Any:
    """Answer from the collection with citations, each claim verified against the sources (``verify``);
    ``"stream": true`` sends SSE: ``sources``, ``token``… as generated, ``claims``, then ``done`` with the answer
    as served — its text replaces the streamed tokens (unsupported claims removed, or a refusal)."""
    scope = search_filter(body.filter, principal)
    body.collection = collection_for(principal, services, body.collection)
    if body.stream:
        services.searcher(body.collection)  # fail before the stream starts if the index is missing
        return StreamingResponse(
            in_model_slot(services, _events(services, body, scope)),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    def run() -> Answer:
        return services.answerer(body.collection).answer(body.question, **_options(body, scope))

    answer = await anyio.to_thread.run_sync(run, limiter=services.model_slots)
    record(services, answer)
    return JSONResponse(answer.to_json(), status_code=answer_status(answer))
