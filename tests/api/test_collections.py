"""One server, many collections: create, fill, search, list and delete them over HTTP; keys limited to some."""

from __future__ import annotations

from typing import Any

import httpx

from ragqa.api.security import hash_key
from ragqa.config import ApiKeyEntry
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from tests.processes import wait_for_job


def _add(client: httpx.Client, collection: str | None, doc_id: str, text: str) -> None:
    params = {"collection": collection} if collection else {}
    job = client.post("/v1/documents", params=params, json={"documents": [{"id": doc_id, "text": text}]})
    assert job.status_code == 202, job.text
    done = wait_for_job(client, job.json()["id"])
    assert done["state"] == "succeeded" and done["collection"] == (collection or "default")


def test_collections_lifecycle(live_server: Any, small_backend: LlamaCppBackend) -> None:
    client = httpx.Client(base_url=live_server(small_backend).url, timeout=300)
    created = client.post("/v1/collections", json={"name": "hr"})
    assert created.status_code == 201 and created.json() == {
        "name": "hr",
        "documents": 0,
        "chunks": 0,
        "generation": 0,
    }
    assert client.post("/v1/collections", json={"name": "hr"}).json()["error"]["code"] == "collection_exists"
    assert client.post("/v1/collections", json={"name": "../etc"}).status_code == 422
    empty = client.post("/v1/search", json={"query": "leave", "collection": "hr"})
    assert empty.status_code == 200 and empty.json()["hits"] == []  # created, nothing in it yet
    assert client.get("/v1/documents", params={"collection": "hr"}).json()["total"] == 0
    _add(client, "hr", "leave", "Parental leave lasts sixteen weeks.")
    _add(client, None, "deploys", "Deploys happen on Tuesdays.")
    hits = client.post("/v1/search", json={"query": "how long is leave", "collection": "hr"}).json()["hits"]
    assert [h["doc_id"] for h in hits] == ["leave"]
    default = client.post("/v1/search", json={"query": "how long is leave"}).json()["hits"]
    assert [h["doc_id"] for h in default] == ["deploys"]
    answer = client.post(
        "/v1/query",
        json={"question": "How long is parental leave?", "collection": "hr", "sampling": {"max_tokens": 24}},
    )
    assert {s["doc_id"] for s in answer.json()["sources"]} == {"leave"}
    listed = {c["name"]: c for c in client.get("/v1/collections").json()["collections"]}
    assert (
        listed["hr"]["documents"] == 1
        and listed["default"]["documents"] == 1
        and listed["hr"]["generation"] >= 1
    )
    assert [
        d["doc_id"] for d in client.get("/v1/documents", params={"collection": "hr"}).json()["documents"]
    ] == ["leave"]
    assert client.get("/v1/documents/leave").status_code == 404  # not in the default collection
    assert client.delete("/v1/collections/default").json()["error"]["code"] == "collection_in_use"
    assert client.delete("/v1/collections/hr").json() == {"deleted": ["hr"]}
    assert "hr" not in {c["name"] for c in client.get("/v1/collections").json()["collections"]}
    assert client.delete("/v1/collections/hr").status_code == 404
    gone = client.post("/v1/search", json={"query": "leave", "collection": "hr"})
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "not_found"
    typo = client.post(
        "/v1/documents", params={"collection": "hrr"}, json={"documents": [{"id": "a", "text": "a"}]}
    )
    assert typo.status_code == 404  # uploads do not create collections by accident


def test_keys_limited_to_collections(live_server: Any, small_backend: LlamaCppBackend) -> None:
    keys = [
        ApiKeyEntry(hash=hash_key("hr-key"), name="hr", role="write", collections=("hr",)),
        ApiKeyEntry(hash=hash_key("root-key"), name="root", role="admin"),
    ]
    url = live_server(small_backend, api_keys=keys).url
    hr = httpx.Client(base_url=url, timeout=300, headers={"Authorization": "Bearer hr-key"})
    root = httpx.Client(base_url=url, timeout=300, headers={"Authorization": "Bearer root-key"})
    assert root.post("/v1/collections", json={"name": "hr"}).status_code == 201
    assert hr.post("/v1/collections", json={"name": "x"}).json()["error"]["code"] == "forbidden"
    _add(root, None, "plans", "The plan is secret.")
    _add(hr, "hr", "leave", "Parental leave lasts sixteen weeks.")
    denied = hr.post("/v1/search", json={"query": "plan"})  # the server's own collection is not among its own
    assert denied.status_code == 404 and denied.json()["error"]["code"] == "not_found"
    assert hr.get("/v1/documents", params={"collection": "default"}).status_code == 404
    assert [c["name"] for c in hr.get("/v1/collections").json()["collections"]] == ["hr"]
    assert {c["name"] for c in root.get("/v1/collections").json()["collections"]} == {"default", "hr"}
