"""A typed Python client for the ragqa REST API, sync (:class:`Client`) and async (:class:`AsyncClient`).

    from ragqa.client import Client

    with Client("http://127.0.0.1:8080", api_key="...") as rag:
        job = rag.wait_for_job(rag.upload(["handbook.pdf"]).id)
        answer = rag.query("How many vacation days do I get?")
        print(answer.answer, [c.source for c in answer.citations])
        for event in rag.stream("And sick days?"):
            if event.kind == "token":
                print(event.data["delta"], end="", flush=True)

Responses are the API's own response models (``ragqa.api.schemas``); an error response raises
:class:`ApiError` with its HTTP status and stable ``code``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from ragqa.api.schemas import (
    DeleteResponse,
    DocumentOut,
    DocumentPage,
    HealthResponse,
    JobOut,
    JobPage,
    QueryResponse,
    SearchResponse,
)
from ragqa.ingest.jobs import FINISHED_STATES
from ragqa.types import SearchMode, VerifyMode

Model = TypeVar("Model", bound=BaseModel)
EventKind = Literal["sources", "token", "claims", "done", "error"]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One server-sent event of a streamed answer; ``answer`` is set on ``done`` (and on ``error`` when the
    server still sent the retrieved sources)."""

    kind: EventKind
    data: dict[str, Any]
    answer: QueryResponse | None = None


@dataclass(frozen=True, slots=True)
class _Call:
    """One request and the model its answer parses into."""

    method: str
    path: str
    model: type[BaseModel] | None
    json: Any = None
    params: dict[str, Any] | None = None
    files: list[tuple[str, tuple[str, bytes, str]]] = field(default_factory=list)


def _query_body(
    question: str,
    k: int | None,
    mode: SearchMode,
    verify: VerifyMode | None,
    history: list[dict[str, str]] | None,
    **sampling: Any,
) -> dict:
    """``history``: earlier turns, ``[{"role": "user" | "assistant", "content"}]``, oldest first."""
    body: dict[str, Any] = {"question": question, "mode": mode, "sampling": sampling}
    if history:
        body["history"] = history
    if k is not None:
        body["k"] = k
    if verify is not None:
        body["verify"] = verify
    return body


def _files(paths: Iterable[str | Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (Path(p).name, Path(p).read_bytes(), "application/octet-stream")) for p in paths]


def _parse(call: _Call, response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            error = response.json()["error"]
            raise ApiError(response.status_code, error["code"], error["message"])
        except (ValueError, KeyError, TypeError):
            raise ApiError(response.status_code, "http_error", response.text[:500]) from None
    return call.model.model_validate(response.json()) if call.model is not None else response.text


def _event(kind: str, data: str) -> StreamEvent:
    payload = json.loads(data)
    answer = payload if kind == "done" else payload.get("answer") if kind == "error" else None
    return StreamEvent(kind, payload, QueryResponse.model_validate(answer) if answer else None)  # type: ignore[arg-type]


class _Sse:
    """Server-sent events from lines: ``event:``/``data:`` fields, a blank line ends one; comments skipped."""

    def __init__(self) -> None:
        self.kind, self.data = "message", ""

    def feed(self, line: str) -> StreamEvent | None:
        if line.startswith("event:"):
            self.kind = line[6:].strip()
        elif line.startswith("data:"):
            self.data += line[5:].strip()
        elif not line and self.data:
            event, self.kind, self.data = _event(self.kind, self.data), "message", ""
            return event
        return None


class _Calls:
    """The API's operations as requests; the sync and async clients only send them."""

    @staticmethod
    def search(query: str, mode: SearchMode, k: int) -> _Call:
        return _Call("POST", "/v1/search", SearchResponse, json={"query": query, "mode": mode, "k": k})

    @staticmethod
    def query(body: dict[str, Any]) -> _Call:
        return _Call("POST", "/v1/query", QueryResponse, json=body)

    @staticmethod
    def add_texts(documents: list[dict[str, Any]]) -> _Call:
        return _Call("POST", "/v1/documents", JobOut, json={"documents": documents})

    @staticmethod
    def upload(paths: Iterable[str | Path]) -> _Call:
        return _Call("POST", "/v1/documents", JobOut, files=_files(paths))

    @staticmethod
    def documents(offset: int, limit: int) -> _Call:
        return _Call("GET", "/v1/documents", DocumentPage, params={"offset": offset, "limit": limit})

    @staticmethod
    def document(doc_id: str) -> _Call:
        return _Call("GET", f"/v1/documents/{quote(doc_id, safe='')}", DocumentOut)

    @staticmethod
    def delete(doc_id: str) -> _Call:
        return _Call("DELETE", f"/v1/documents/{quote(doc_id, safe='')}", DeleteResponse)

    @staticmethod
    def job(job_id: str) -> _Call:
        return _Call("GET", f"/v1/jobs/{quote(job_id, safe='')}", JobOut)

    @staticmethod
    def jobs(offset: int, limit: int) -> _Call:
        return _Call("GET", "/v1/jobs", JobPage, params={"offset": offset, "limit": limit})

    @staticmethod
    def ready() -> _Call:
        return _Call("GET", "/readyz", HealthResponse)


def _headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _request(call: _Call, collection: str | None) -> dict[str, Any]:
    """httpx arguments for ``call``, in ``collection`` when one is set: a body field for search and query, a
    query parameter for the document endpoints."""
    body, params = call.json, call.params
    if collection:
        if call.path in ("/v1/search", "/v1/query"):
            body = {**body, "collection": collection}
        elif call.path.startswith("/v1/documents"):
            params = {**(params or {}), "collection": collection}
    return {"json": body, "params": params, "files": call.files or None}


class Client:
    """Blocking client; one connection pool, closed by ``close()`` or ``with``."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080",
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
        collection: str | None = None,
    ) -> None:
        """``collection``: the one every call works on (the server's own when ``None``)."""
        self.http = httpx.Client(base_url=base_url, headers=_headers(api_key), timeout=timeout)
        self.collection = collection

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _send(self, call: _Call) -> Any:
        return _parse(call, self.http.request(call.method, call.path, **_request(call, self.collection)))

    def search(self, query: str, *, mode: SearchMode = "hybrid", k: int = 10) -> SearchResponse:
        return self._send(_Calls.search(query, mode, k))  # type: ignore[no-any-return]

    def query(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: SearchMode = "hybrid",
        verify: VerifyMode | None = None,
        history: list[dict[str, str]] | None = None,
        **sampling: Any,
    ) -> QueryResponse:
        """A cited answer; ``sampling``: temperature, top_p, top_k, max_tokens, seed, stop…"""
        return self._send(_Calls.query(_query_body(question, k, mode, verify, history, **sampling)))  # type: ignore[no-any-return]

    def stream(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: SearchMode = "hybrid",
        verify: VerifyMode | None = None,
        history: list[dict[str, str]] | None = None,
        **sampling: Any,
    ) -> Iterator[StreamEvent]:
        """``sources``, ``token``… as generated, ``claims``, then ``done`` (or ``error``)."""
        call = _Calls.query({**_query_body(question, k, mode, verify, history, **sampling), "stream": True})
        with self.http.stream(call.method, call.path, **_request(call, self.collection)) as response:
            if response.status_code >= 400:
                response.read()
                _parse(call, response)
            sse = _Sse()
            for line in response.iter_lines():
                if (event := sse.feed(line)) is not None:
                    yield event

    def add_texts(self, documents: list[dict[str, Any]]) -> JobOut:
        """Queue ``[{"id", "text", "title"?, "metadata"?}]`` for ingestion; the job to follow."""
        return self._send(_Calls.add_texts(documents))  # type: ignore[no-any-return]

    def upload(self, paths: Iterable[str | Path]) -> JobOut:
        return self._send(_Calls.upload(paths))  # type: ignore[no-any-return]

    def documents(self, *, offset: int = 0, limit: int = 50) -> DocumentPage:
        return self._send(_Calls.documents(offset, limit))  # type: ignore[no-any-return]

    def document(self, doc_id: str) -> DocumentOut:
        return self._send(_Calls.document(doc_id))  # type: ignore[no-any-return]

    def delete(self, doc_id: str) -> DeleteResponse:
        return self._send(_Calls.delete(doc_id))  # type: ignore[no-any-return]

    def job(self, job_id: str) -> JobOut:
        return self._send(_Calls.job(job_id))  # type: ignore[no-any-return]

    def jobs(self, *, offset: int = 0, limit: int = 50) -> JobPage:
        return self._send(_Calls.jobs(offset, limit))  # type: ignore[no-any-return]

    def ready(self) -> HealthResponse:
        """``/readyz``: raises :class:`ApiError` (503) while the index or the model is not ready."""
        return self._send(_Calls.ready())  # type: ignore[no-any-return]

    def wait_for_job(self, job_id: str, *, timeout: float = 600.0, every: float = 0.5) -> JobOut:
        deadline = time.monotonic() + timeout
        while (job := self.job(job_id)).state not in FINISHED_STATES:
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.state} after {timeout:g} s")
            time.sleep(every)
        return job


class AsyncClient:
    """The same operations for asyncio code (``await``, ``async for`` on :meth:`stream`)."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8080",
        *,
        api_key: str | None = None,
        timeout: float = 300.0,
        collection: str | None = None,
    ) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, headers=_headers(api_key), timeout=timeout)
        self.collection = collection

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _send(self, call: _Call) -> Any:
        return _parse(
            call, await self.http.request(call.method, call.path, **_request(call, self.collection))
        )

    async def search(self, query: str, *, mode: SearchMode = "hybrid", k: int = 10) -> SearchResponse:
        return await self._send(_Calls.search(query, mode, k))  # type: ignore[no-any-return]

    async def query(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: SearchMode = "hybrid",
        verify: VerifyMode | None = None,
        history: list[dict[str, str]] | None = None,
        **sampling: Any,
    ) -> QueryResponse:
        return await self._send(_Calls.query(_query_body(question, k, mode, verify, history, **sampling)))  # type: ignore[no-any-return]

    async def stream(
        self,
        question: str,
        *,
        k: int | None = None,
        mode: SearchMode = "hybrid",
        verify: VerifyMode | None = None,
        history: list[dict[str, str]] | None = None,
        **sampling: Any,
    ) -> AsyncIterator[StreamEvent]:
        call = _Calls.query({**_query_body(question, k, mode, verify, history, **sampling), "stream": True})
        async with self.http.stream(call.method, call.path, **_request(call, self.collection)) as response:
            if response.status_code >= 400:
                await response.aread()
                _parse(call, response)
            sse = _Sse()
            async for line in response.aiter_lines():
                if (event := sse.feed(line)) is not None:
                    yield event

    async def add_texts(self, documents: list[dict[str, Any]]) -> JobOut:
        return await self._send(_Calls.add_texts(documents))  # type: ignore[no-any-return]

    async def upload(self, paths: Iterable[str | Path]) -> JobOut:
        return await self._send(_Calls.upload(paths))  # type: ignore[no-any-return]

    async def documents(self, *, offset: int = 0, limit: int = 50) -> DocumentPage:
        return await self._send(_Calls.documents(offset, limit))  # type: ignore[no-any-return]

    async def document(self, doc_id: str) -> DocumentOut:
        return await self._send(_Calls.document(doc_id))  # type: ignore[no-any-return]

    async def delete(self, doc_id: str) -> DeleteResponse:
        return await self._send(_Calls.delete(doc_id))  # type: ignore[no-any-return]

    async def job(self, job_id: str) -> JobOut:
        return await self._send(_Calls.job(job_id))  # type: ignore[no-any-return]

    async def jobs(self, *, offset: int = 0, limit: int = 50) -> JobPage:
        return await self._send(_Calls.jobs(offset, limit))  # type: ignore[no-any-return]

    async def ready(self) -> HealthResponse:
        return await self._send(_Calls.ready())  # type: ignore[no-any-return]

    async def wait_for_job(self, job_id: str, *, timeout: float = 600.0, every: float = 0.5) -> JobOut:
        deadline = time.monotonic() + timeout
        while (job := await self.job(job_id)).state not in FINISHED_STATES:
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {job.state} after {timeout:g} s")
            await asyncio.sleep(every)
        return job
