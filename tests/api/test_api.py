"""The REST API over a real uvicorn server with httpx and the official openai client."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragqa.api.security import hash_key
from ragqa.generation.llamacpp_backend import LlamaCppBackend, free_port
from ragqa.generation.openai_backend import OpenAIBackend
from tests.processes import upload_docs, wait_for_job

ServerFactory = Callable[..., Any]


@pytest.fixture
def ready(live_server: ServerFactory, small_backend: LlamaCppBackend, docs_dir: Path) -> httpx.Client:
    server = live_server(small_backend)
    client = httpx.Client(base_url=server.url, timeout=300)
    job = upload_docs(client, docs_dir)
    assert job["state"] == "succeeded" and job["files_done"] == job["files_total"] == 3, job
    return client


def test_documents_jobs_and_search(ready: httpx.Client) -> None:
    page = ready.get("/v1/documents", params={"limit": 2}).json()
    assert page["total"] == 3 and len(page["documents"]) == 2
    doc_id = page["documents"][0]["doc_id"]
    assert ready.get(f"/v1/documents/{doc_id}").json()["n_chunks"] >= 1
    hits = ready.post("/v1/search", json={"query": "Reciprocal Rank Fusion", "k": 3}).json()["hits"]
    assert len(hits) == 3 and set(hits[0]["ranks"]) == {"bm25", "dense"}
    jobs = ready.get("/v1/jobs").json()["jobs"]
    assert jobs and jobs[0]["state"] == "succeeded"

    body = {
        "documents": [
            {
                "id": "note-1",
                "title": "Quokka",
                "text": "The quokka is a marsupial.",
                "metadata": {"lang": "en"},
            }
        ]
    }
    job = wait_for_job(ready, ready.post("/v1/documents", json=body).json()["id"])
    assert job["state"] == "succeeded" and job["chunks_written"] == 1
    found = ready.post("/v1/search", json={"query": "quokka marsupial", "mode": "bm25"}).json()["hits"]
    assert found[0]["doc_id"] == "note-1"
    assert ready.get("/v1/documents/note-1").json()["metadata"] == {"lang": "en"}
    assert ready.delete("/v1/documents/note-1").json() == {"deleted": ["note-1"]}
    assert ready.get("/v1/documents/note-1").status_code == 404
    assert not ready.post("/v1/search", json={"query": "quokka", "mode": "bm25"}).json()["hits"]


def test_query_plain_and_streamed(ready: httpx.Client) -> None:
    body = {"question": "What does RAGQA_DATA_DIR hold?", "sampling": {"temperature": 0, "max_tokens": 60}}
    answer = ready.post("/v1/query", json=body).json()
    assert answer["status"] == "ok" and answer["sources"] and answer["answer"]
    assert answer["sampling"]["max_tokens"] == 60 and answer["model"]
    assert {"retrieval", "generation"} <= set(answer["timings"])

    events = []
    with ready.stream("POST", "/v1/query", json={**body, "stream": True}) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        name = None
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    kinds = [k for k, _ in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and "token" in kinds
    streamed = "".join(d["delta"] for k, d in events if k == "token")
    assert streamed.strip() and events[-1][1]["status"] == "ok"


def test_openai_client_gets_grounded_answers(ready: httpx.Client) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{ready.base_url}/v1", api_key="unused", timeout=300)
    reply = client.chat.completions.create(
        model="ragqa",
        messages=[{"role": "user", "content": "What does RAGQA_DATA_DIR hold?"}],
        temperature=0,
        max_tokens=60,
    )
    assert reply.choices[0].message.content
    assert reply.model_extra and reply.model_extra["sources"]
    stream = client.chat.completions.create(
        model="ragqa",
        messages=[{"role": "user", "content": "What does RAGQA_DATA_DIR hold?"}],
        temperature=0,
        max_tokens=60,
        stream=True,
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() and chunks[-1].choices[0].finish_reason == "stop"
    assert chunks[-1].model_extra and chunks[-1].model_extra["sources"]


def test_bad_requests_get_json_errors(ready: httpx.Client, tmp_path: Path) -> None:
    cases = [
        (ready.post("/v1/query", json={"question": ""}), 422, "invalid_request"),
        (ready.post("/v1/query", json={"question": "x" * 9000}), 422, "invalid_request"),
        (
            ready.post("/v1/query", json={"question": "hi", "sampling": {"temperature": 7}}),
            422,
            "invalid_request",
        ),
        (
            ready.post("/v1/search", content=b"{not json", headers={"content-type": "application/json"}),
            422,
            "invalid_request",
        ),
        (
            ready.post("/v1/documents", content=b"x", headers={"content-type": "text/plain"}),
            415,
            "unsupported_media_type",
        ),
        (
            ready.post("/v1/documents", files=[("files", ("tool.exe", b"MZ", "application/octet-stream"))]),
            415,
            "unsupported_media_type",
        ),
        (ready.get("/v1/jobs/nope"), 404, "not_found"),
        (ready.get("/v1/nowhere"), 404, "not_found"),
    ]
    for response, status, code in cases:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        assert "Traceback" not in response.text


def test_uploaded_names_cannot_escape_the_data_dir(ready: httpx.Client, tmp_path: Path) -> None:
    response = ready.post(
        "/v1/documents", files=[("files", ("../../../evil.txt", b"Harmless text.", "text/plain"))]
    )
    job = wait_for_job(ready, response.json()["id"])
    assert job["state"] == "succeeded"
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert [p.name for p in (tmp_path / "data" / "uploads" / "default").glob("*/evil.txt")] == ["evil.txt"]


def test_body_and_upload_limits(live_server: ServerFactory, small_backend: LlamaCppBackend) -> None:
    server = live_server(small_backend, api_max_body_mb=0.01, max_file_mb=0.005)
    client = httpx.Client(base_url=server.url)
    big = client.post("/v1/documents", files=[("files", ("a.txt", b"x" * 20_000, "text/plain"))])
    assert big.status_code == 413 and big.json()["error"]["code"] == "payload_too_large"
    file_limit = client.post("/v1/documents", files=[("files", ("a.txt", b"word " * 1500, "text/plain"))])
    assert file_limit.status_code == 413 and "file limit" in file_limit.json()["error"]["message"]


def test_api_keys_and_rate_limits(live_server: ServerFactory, small_backend: LlamaCppBackend) -> None:
    server = live_server(small_backend, api_key_hashes=[hash_key("s3cret")], api_rate_limit=3)
    client = httpx.Client(base_url=server.url)
    assert client.get("/healthz").status_code == 200
    missing = client.get("/v1/jobs")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "unauthorized"
    assert client.get("/v1/jobs", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/v1/jobs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert client.get("/v1/jobs", headers={"X-API-Key": "s3cret"}).status_code == 200
    statuses = [client.get("/v1/jobs", headers={"X-API-Key": "s3cret"}) for _ in range(3)]
    limited = [r for r in statuses if r.status_code == 429]
    assert limited and int(limited[0].headers["Retry-After"]) >= 1
    assert limited[0].json()["error"]["code"] == "rate_limited"


def test_backend_down_returns_503_with_sources(live_server: ServerFactory, docs_dir: Path) -> None:
    dead = OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", model="x", timeout=2)
    server = live_server(dead)
    client = httpx.Client(base_url=server.url, timeout=120)
    assert client.post("/v1/search", json={"query": "x"}).json()["error"]["code"] == "index_missing"
    upload_docs(client, docs_dir)
    response = client.post("/v1/query", json={"question": "How are BM25 and dense results fused?"})
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "generation_unavailable" and body["sources"] and "unreachable" in body["error"]
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.json()["checks"]["generation"] == "unreachable"
    assert ready.json()["checks"]["index"].startswith("ok")


def _sample(text: str, name: str) -> float:
    return float(next(line.split()[-1] for line in text.splitlines() if line.startswith(name + " ")))


def test_metrics_and_health(ready: httpx.Client) -> None:
    ready.post("/v1/search", json={"query": "fusion"})
    assert ready.get("/healthz").json() == {"status": "ok", "checks": {}}
    assert ready.get("/readyz").status_code == 200
    refused = ready.post("/v1/query", json={"question": "What is the capital of Australia?"}).json()
    assert refused["refusal_reason"] == "low_relevance"
    text = ready.get("/metrics").text
    assert 'ragqa_http_requests_total{endpoint="/v1/search",method="POST",status="200"} 1.0' in text
    assert "ragqa_stage_duration_seconds_bucket" in text and "ragqa_http_request_duration_seconds" in text
    assert 'ragqa_answers_total{refusal="low_relevance",status="ok"} 1.0' in text
    assert "ragqa_model_queue_depth 0.0" in text and "ragqa_index_documents 3.0" in text
    assert 'ragqa_ingestion_jobs_total{state="succeeded"} 1.0' in text
    assert _sample(text, "ragqa_ingested_chunks_total") > 0 and _sample(text, "ragqa_index_chunks") > 0
    assert "process_cpu_seconds_total" in text and "python_gc_objects_collected_total" in text
    spec = ready.get("/openapi.json").json()
    assert {
        "/v1/query",
        "/v1/search",
        "/v1/chat/completions",
        "/v1/documents",
        "/v1/jobs/{job_id}/cancel",
        "/healthz",
        "/readyz",
        "/metrics",
    } <= set(spec["paths"])
