"""OpenAI-compatible facade: point an OpenAI SDK at ragqa and get grounded answers (sources in ``sources``)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse, StreamingResponse

from ragqa.api.deps import AdmittedDep, ReaderDep, ServicesDep, collection_for
from ragqa.api.errors import ApiError
from ragqa.api.routes.query import answer_status, in_model_slot, record
from ragqa.api.schemas import ChatMessage, ChatRequest, ErrorResponse, search_filter
from ragqa.api.services import Services
from ragqa.errors import RagqaError
from ragqa.generation.answerer import Answer
from ragqa.generation.conversation import Conversation, turns_of
from ragqa.generation.sampling import SamplingParams, sampling_params

router = APIRouter(tags=["openai"])
MODEL_NAME = "ragqa"


def _text(message: ChatMessage) -> str:
    content = message.content
    if isinstance(content, list):
        content = " ".join(str(p.get("text", "")) for p in content if p.get("type") == "text")
    return (content or "").strip()


def _conversation(body: ChatRequest) -> tuple[str, Conversation]:
    """The last user message with text is the question; the user and assistant messages before it are the
    history, and system (or developer) messages are instructions under ragqa's grounding rules."""
    texts = [_text(m) for m in body.messages]
    last = next(
        (i for i in range(len(texts) - 1, -1, -1) if body.messages[i].role == "user" and texts[i]), None
    )
    if last is None:
        raise ApiError(422, "invalid_request", "the messages hold no user message with text")
    earlier = [(m.role, t) for m, t in zip(body.messages[:last], texts[:last], strict=True)]
    instructions = "\n".join(
        t for m, t in zip(body.messages, texts, strict=True) if m.role in ("system", "developer") and t
    )
    return texts[last], Conversation(turns_of(earlier), instructions or None)


def _params(body: ChatRequest) -> SamplingParams:
    stop = [body.stop] if isinstance(body.stop, str) else body.stop
    return sampling_params(
        temperature=body.temperature,
        top_p=body.top_p,
        max_tokens=body.max_tokens,
        seed=body.seed,
        stop=tuple(stop) if stop else None,
    )


def _extras(answer: Answer) -> dict[str, Any]:
    data = answer.to_json()
    return {
        "sources": data["sources"],
        "citations": data["citations"],
        "refused": answer.refused,
        "refusal_reason": answer.refusal_reason,
        "ragqa_status": answer.status,
        "claims": data["claims"],
        "verification": data["verification"],
        "cited": data["cited"],
        "retrieval_query": data["retrieval_query"],
    }


def _completion(answer: Answer, model: str) -> dict[str, Any]:
    usage = answer.usage
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": answer.answer or answer.error or ""},
            }
        ],
        "usage": {
            "prompt_tokens": usage.prompt_tokens if usage else 0,
            "completion_tokens": usage.completion_tokens if usage else 0,
            "total_tokens": (usage.prompt_tokens + usage.completion_tokens) if usage else 0,
        },
        **_extras(answer),
    }


def _chunk(cid: str, model: str, delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
    payload = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        **extra,
    }
    return f"data: {json.dumps(payload, ensure_ascii=False)}\n\n"


def _stream(
    services: Services, question: str, options: dict[str, Any], model: str, collection: str
) -> Iterator[str]:
    """Deltas as generated; the last chunk carries ``verified_answer`` (the text as served after
    verification), ``claims`` and ``verification`` as extra fields."""
    cid = f"chatcmpl-{uuid.uuid4().hex[:24]}"
    yield _chunk(cid, model, {"role": "assistant", "content": ""})
    try:
        answerer = services.answerer(collection)
        for event in answerer.stream(question, **options):
            if event.kind == "token" and event.delta:
                yield _chunk(cid, model, {"content": event.delta})
            elif event.kind == "done" and event.answer is not None:
                record(services, event.answer)
                tail = (
                    "" if event.answer.status == "ok" or event.answer.answer else (event.answer.error or "")
                )
                delta = {"content": tail} if tail else {}
                verified = {"verified_answer": event.answer.answer}
                yield _chunk(cid, model, delta, "stop", **verified, **_extras(event.answer))
    except RagqaError as exc:
        yield f"data: {json.dumps({'error': {'code': exc.code, 'message': str(exc)}})}\n\n"
    yield "data: [DONE]\n\n"


@router.post("/v1/chat/completions", responses={422: {"model": ErrorResponse}, 503: {"model": ErrorResponse}})
async def chat_completions(
    body: ChatRequest, services: ServicesDep, principal: ReaderDep, _: AdmittedDep
) -> Any:
    """OpenAI chat completions over the whole message list: the last user message is the question, earlier
    turns make a follow-up standalone (``retrieval_query``), system messages are honoured within the
    grounding rules. Extra fields: sources, citations, claims, verification."""
    question, conversation = _conversation(body)
    model = body.model or MODEL_NAME
    options: dict[str, Any] = {
        "params": _params(body),
        "verify": body.verify,
        "search_filter": search_filter(body.filter, principal),
        "conversation": conversation,
    }
    collection = collection_for(principal, services, body.collection)
    if body.stream:
        services.searcher(collection)
        return StreamingResponse(
            in_model_slot(services, _stream(services, question, options, model, collection)),
            media_type="text/event-stream",
        )

    def run() -> Answer:
        return services.answerer(collection).answer(question, **options)

    answer = await anyio.to_thread.run_sync(run, limiter=services.model_slots)
    record(services, answer)
    status = answer_status(answer)
    if status != 200:
        return JSONResponse(
            {"error": {"code": answer.error_code, "message": answer.error}, **_extras(answer)},
            status_code=status,
        )
    return JSONResponse(_completion(answer, model))


@router.get("/v1/models", tags=["openai"])
async def models() -> dict[str, Any]:
    return {
        "object": "list",
        "data": [{"id": MODEL_NAME, "object": "model", "created": 0, "owned_by": "ragqa"}],
    }
