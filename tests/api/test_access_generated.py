"""1,000 generated requests of every reading kind — search, query, chat, document list and fetch, job fetch — by
keys with random groups over documents with random acls: each response holds exactly what the key may see.
The answers come from a fixed-answer OpenAI-protocol server (what matters here is retrieval and what the API
returns around the answer; the real model's paths are tested elsewhere)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ragqa.api.security import hash_key
from ragqa.config import ApiKeyEntry
from ragqa.generation.openai_backend import OpenAIBackend
from tests.fixed_model import FixedAnswerServer
from tests.processes import wait_for_job

_GROUPS = ("hr", "eng", "legal", "sales")
_WORDS = [
    "harbor",
    "engine",
    "glacier",
    "copper",
    "lantern",
    "orchard",
    "falcon",
    "meadow",
    "quartz",
    "tunnel",
    "comet",
    "canyon",
    "ferry",
    "marble",
]


@pytest.fixture
def model() -> Iterator[FixedAnswerServer]:
    server = FixedAnswerServer("The notes mention a harbor [1].")
    yield server
    server.close()


def test_generated_requests_never_show_what_a_key_may_not_see(
    live_server: Any, model: FixedAnswerServer
) -> None:
    rng = random.Random(19)
    keys = {f"k{i}": frozenset(rng.sample(_GROUPS, rng.randint(0, 2))) for i in range(5)}
    entries = [ApiKeyEntry(hash=hash_key(n), name=n, groups=tuple(g), role="read") for n, g in keys.items()]
    entries.append(ApiKeyEntry(hash=hash_key("boss"), name="boss", role="admin"))
    backend = OpenAIBackend(model.url, model="fixed", timeout=30, context_window=4096)
    url = live_server(backend, api_keys=entries).url
    clients = {n: httpx.Client(base_url=url, timeout=60, headers={"X-API-Key": n}) for n in [*keys, "boss"]}
    docs = []
    for i in range(40):
        doc: dict[str, Any] = {
            "id": f"d{i:02d}",
            "text": " ".join(rng.choice(_WORDS) for _ in range(25)) + ".",
        }
        if rng.random() < 0.6:
            doc["acl"] = rng.sample(_GROUPS, rng.randint(1, 2))
        docs.append(doc)
    job = clients["boss"].post("/v1/documents", json={"documents": docs}).json()
    assert wait_for_job(clients["boss"], job["id"])["state"] == "succeeded"
    visible = {n: {d["id"] for d in docs if not d.get("acl") or set(d["acl"]) & g} for n, g in keys.items()}
    kinds: dict[str, int] = {}
    leaks = 0
    for _ in range(1000):
        name = rng.choice(list(keys))
        client, allowed = clients[name], visible[name]
        kind = rng.choice(["search", "query", "chat", "list", "fetch", "job"])
        kinds[kind] = kinds.get(kind, 0) + 1
        question = " ".join(rng.sample(_WORDS, 3))
        if kind == "search":
            mode = rng.choice(["bm25", "dense", "hybrid"])
            hits = client.post("/v1/search", json={"query": question, "mode": mode, "k": 8}).json()["hits"]
            seen = {h["doc_id"] for h in hits}
            if mode == "dense":  # every visible chunk has a dense score: exactly k (or all of them) come back
                assert len(hits) == min(8, len(allowed)), (name, question)
        elif kind == "query":
            body = client.post("/v1/query", json={"question": question}).json()
            seen = {s["doc_id"] for s in body["sources"]} | {c["doc_id"] for c in body["citations"]}
            assert all(
                c["evidence"] is None or 1 <= c["evidence"]["n"] <= len(body["sources"])
                for c in body["claims"]
            )
        elif kind == "chat":
            messages = [{"role": "user", "content": question}]
            body = client.post("/v1/chat/completions", json={"messages": messages}).json()
            seen = {s["doc_id"] for s in body["sources"]}
        elif kind == "list":
            page = client.get("/v1/documents", params={"limit": 500}).json()
            seen = {d["doc_id"] for d in page["documents"]}
            assert seen == allowed and page["total"] == len(allowed), name
        elif kind == "fetch":
            target = rng.choice(docs)["id"]
            status = client.get(f"/v1/documents/{target}").status_code
            assert status == (200 if target in allowed else 404), (name, target)
            seen = {target} if status == 200 else set()
        else:
            assert client.get(f"/v1/jobs/{job['id']}").status_code == 404  # the admin's job
            seen = set()
        leaks += len(seen - allowed)
    assert sum(kinds.values()) == 1000 and min(kinds.values()) > 100 and leaks == 0, (kinds, leaks)
