"""``GET /v1/documents/{id}/content``: the text as indexed and its chunks' spans, so that a page can show a cited
source in place — every hit's span points at exactly its text, in English and Chinese."""

from __future__ import annotations

from typing import Any

import httpx

from tests.processes import wait_for_job

SENTENCES = [f"Sentence {i} tells the story of lighthouse number {i} and its keeper." for i in range(60)]
CHINESE = "".join(f"第{i}座灯塔建于{1800 + i}年，看守人换过{i % 7}次。" for i in range(80))


def test_every_span_points_at_its_text(live_server: Any) -> None:
    server = live_server(chunk_tokens=64, chunk_overlap=16)
    client = httpx.Client(base_url=server.url, timeout=120)
    long_text = "\n\n".join(" ".join(SENTENCES[i : i + 5]) for i in range(0, 60, 5))
    files = [
        ("files", ("lights/long.txt", long_text.encode(), "text/plain")),
        ("files", ("灯塔.txt", CHINESE.encode(), "text/plain")),
    ]
    assert (
        wait_for_job(client, client.post("/v1/documents", files=files).json()["id"])["state"] == "succeeded"
    )
    for doc in client.get("/v1/documents").json()["documents"]:
        body = client.get(f"/v1/documents/{doc['doc_id']}/content").json()
        assert body["doc_id"] == doc["doc_id"] and len(body["chunks"]) == doc["n_chunks"] > 3
        original = long_text if body["title"].startswith("long") or "long" in body["source"] else CHINESE
        assert body["text"].split() == original.split()  # white space between chunks comes back as spaces
        spans = [c["span"] for c in body["chunks"]]
        assert spans == sorted(spans) and spans[-1][1] == len(body["text"])
    for query in ("lighthouse number 42 keeper", "第33座灯塔"):
        hits = client.post("/v1/search", json={"query": query, "k": 5}).json()["hits"]
        assert hits
        for hit in hits:
            text = client.get(f"/v1/documents/{hit['doc_id']}/content").json()["text"]
            start, end = hit["span"]
            assert text[start:end] == hit["text"]
    assert client.get("/v1/documents/nothing-here/content").status_code == 404
