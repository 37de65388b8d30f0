"""Milvus Lite the way users run it: ingest in one process, then search from a second and serve from a third
(a collection reopened by a new process must be loaded before it can be searched)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.processes import env_for, ragqa, serving


def test_ingest_then_search_and_serve_from_other_processes(tmp_path: Path, docs_dir: Path) -> None:
    env = env_for(tmp_path / "data", store="milvus")
    ingest = ragqa("ingest", str(docs_dir), "--json", env=env)
    assert ingest.returncode == 0, ingest.stderr
    assert json.loads(ingest.stdout)["documents_added"] >= 4

    for mode in ("dense", "hybrid", "native"):
        search = ragqa("search", "How are BM25 and dense results fused?", "--mode", mode, "--json", env=env)
        assert search.returncode == 0 and "Traceback" not in search.stderr, search.stderr
        assert json.loads(search.stdout)["hits"], mode

    with serving(env) as server:
        response = server.client.post("/v1/search", json={"query": "Reciprocal Rank Fusion", "mode": "dense"})
        assert response.status_code == 200 and response.json()["hits"]
        assert server.client.get("/readyz").status_code == 200
