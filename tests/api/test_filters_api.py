"""Filters over HTTP and the CLI, as users send them: only permitted documents reach hits, sources and answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx

from ragqa.generation.llamacpp_backend import LlamaCppBackend
from tests.processes import wait_for_job

_DOCS = [
    {"id": "red-handbook", "text": "The red team's office is in Lisbon. It opens at eight.", "team": "red"},
    {"id": "blue-handbook", "text": "The blue team's office is in Oslo. It opens at nine.", "team": "blue"},
]


def test_search_query_and_chat_honour_the_filter(live_server: Any, small_backend: LlamaCppBackend) -> None:
    server = live_server(small_backend)
    client = httpx.Client(base_url=server.url, timeout=300)
    docs = [{"id": d["id"], "text": d["text"], "metadata": {"team": d["team"]}} for d in _DOCS]
    job = client.post("/v1/documents", json={"documents": docs})
    assert wait_for_job(client, job.json()["id"])["state"] == "succeeded"
    blue = {"metadata": {"team": "blue"}}
    hits = client.post("/v1/search", json={"query": "Where is the office?", "filter": blue}).json()["hits"]
    assert [h["doc_id"] for h in hits] == ["blue-handbook"]
    both = client.post(
        "/v1/search",
        json={"query": "Where is the office?", "filter": {"metadata": {"team": ["red", "blue"]}}},
    )
    assert {h["doc_id"] for h in both.json()["hits"]} == {"red-handbook", "blue-handbook"}
    answer = client.post(
        "/v1/query",
        json={"question": "Where is the team's office?", "filter": blue, "sampling": {"max_tokens": 32}},
    ).json()
    assert {s["doc_id"] for s in answer["sources"]} == {"blue-handbook"} and "Lisbon" not in answer["answer"]
    chat = client.post(
        "/v1/chat/completions",
        json={
            "messages": [{"role": "user", "content": "Where is the office?"}],
            "filter": {"doc_ids": ["red-handbook"]},
            "max_tokens": 32,
        },
    ).json()
    assert {s["doc_id"] for s in chat["sources"]} == {"red-handbook"}
    bad = client.post(
        "/v1/search", json={"query": "office", "filter": {"metadata": {"team": {"$ne": "red"}}}}
    )
    assert bad.status_code == 422 and bad.json()["error"]["code"]
    unknown = client.post("/v1/search", json={"query": "office", "filter": {"team": "red"}})
    assert unknown.status_code == 422  # a typo'd filter field is an error, not an unfiltered search


def test_cli_filter(tmp_path: Path) -> None:
    source = tmp_path / "handbooks.jsonl"
    source.write_text("\n".join(json.dumps(d) for d in _DOCS))
    env = {**os.environ, "RAGQA_DATA_DIR": str(tmp_path / "data")}

    def ragqa(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "ragqa.cli", *args], env=env, capture_output=True, text=True, timeout=300
        )

    assert ragqa("ingest", str(source)).returncode == 0
    out = ragqa("search", "Where is the office?", "--filter", "team=red", "--json")
    assert out.returncode == 0, out.stderr
    assert [h["doc_id"] for h in json.loads(out.stdout)["hits"]] == ["red-handbook"]
    bad = ragqa("search", "office", "--filter", "team")
    assert bad.returncode == 2 and "key=value" in bad.stderr and "Traceback" not in bad.stderr
