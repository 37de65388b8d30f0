"""``ragqa.client`` against a real server (uvicorn on 127.0.0.1, a real llama.cpp model): sync and async."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragqa.client import ApiError, AsyncClient, Client
from ragqa.generation.llamacpp_backend import LlamaCppBackend


def test_sync_client_ingests_searches_answers_streams_and_deletes(
    live_server: Any, small_backend: LlamaCppBackend, docs_dir: Path
) -> None:
    server = live_server(small_backend)
    with Client(server.url) as rag:
        job = rag.wait_for_job(rag.upload(sorted(docs_dir.glob("*.md"))).id)
        assert job.state == "succeeded" and job.files_done == job.files_total == 3
        texts = rag.wait_for_job(
            rag.add_texts([{"id": "quokka", "text": "The quokka lives on Rottnest."}]).id
        )
        assert texts.state == "succeeded"
        hits = rag.search("Where does the quokka live?", k=3).hits
        assert hits[0].doc_id == "quokka" and hits[0].span == (0, 29)
        answer = rag.query("What is the capital of Australia?")
        assert answer.refused and answer.refusal_reason == "low_relevance"
        events = list(rag.stream("How does ragqa fuse BM25 and dense results?", max_tokens=48, seed=1))
        kinds = [e.kind for e in events]
        assert kinds[0] == "sources" and kinds[-1] == "done" and "token" in kinds
        done = events[-1].answer
        assert done is not None and done.sources and done.question.startswith("How does ragqa")
        page = rag.documents(limit=2)
        assert page.total == 4 and len(page.documents) == 2
        assert rag.document("quokka").chars == 29
        assert rag.delete("quokka").deleted == ["quokka"]
        with pytest.raises(ApiError) as missing:
            rag.document("quokka")
        assert missing.value.status == 404 and missing.value.code == "not_found"
        with pytest.raises(ApiError) as bad:
            rag.search("x", k=1000)
        assert bad.value.status == 422
    assert httpx.post(f"{server.url}/v1/collections", json={"name": "other"}).status_code == 201
    with Client(server.url, collection="other") as other:  # every call in that collection
        assert (
            other.wait_for_job(other.add_texts([{"id": "o", "text": "Otters hold hands."}]).id).state
            == "succeeded"
        )
        assert [h.doc_id for h in other.search("otters").hits] == ["o"] and other.documents().total == 1
        assert [e.kind for e in other.stream("Who holds hands?", max_tokens=16)][-1] == "done"


def test_async_client_and_api_keys(live_server: Any, small_backend: LlamaCppBackend) -> None:
    from ragqa.api.security import hash_key

    server = live_server(small_backend, api_key_hashes=[hash_key("s3cret")])

    async def run() -> None:
        async with AsyncClient(server.url) as anonymous:
            with pytest.raises(ApiError) as denied:
                await anonymous.jobs()
            assert denied.value.status == 401 and denied.value.code == "unauthorized"
        async with AsyncClient(server.url, api_key="s3cret") as rag:
            job = await rag.wait_for_job((await rag.add_texts([{"id": "a", "text": "Alpacas hum."}])).id)
            assert job.state == "succeeded"
            assert (await rag.search("alpacas", mode="bm25")).hits[0].doc_id == "a"
            events = [e async for e in rag.stream("What do alpacas do?", max_tokens=24, seed=1)]
            assert events[0].kind == "sources" and events[-1].kind == "done" and events[-1].answer is not None
            assert (await rag.jobs()).jobs

    asyncio.run(run())
