"""Kill a real ``ragqa serve`` process in the middle of an ingestion job; after a restart the job finishes
with every document exactly once."""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from pathlib import Path

import httpx

from ragqa.generation.llamacpp_backend import free_port
from tests.processes import start_serve


def test_job_survives_a_server_crash(tmp_path: Path) -> None:
    files = []
    for i in range(60):
        text = " ".join(f"Document {i} sentence {j} mentions topic {i * 7 + j}." for j in range(30))
        files.append(("files", (f"doc{i:03d}.txt", text.encode(), "text/plain")))
    port = free_port()
    env = {
        **os.environ,
        "RAGQA_DATA_DIR": str(tmp_path / "data"),
        "RAGQA_COMMIT_EVERY": "8",
        "RAGQA_CHUNK_TOKENS": "64",
        "RAGQA_CHUNK_OVERLAP": "0",
        "RAGQA_LOG_LEVEL": "WARNING",
    }
    server = start_serve(env, port).proc
    base = f"http://127.0.0.1:{port}"
    try:
        job_id = httpx.post(f"{base}/v1/documents", files=files, timeout=60).json()["id"]
        deadline = time.time() + 240
        job = {}
        while time.time() < deadline:
            job = httpx.get(f"{base}/v1/jobs/{job_id}").json()
            if job["state"] == "running" and job["files_done"] >= 3:
                break
            assert job["state"] in {"queued", "running"}, job
            time.sleep(0.05)
        assert job["files_done"] < 60, "the job finished before the crash; make it longer"
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait()

    server = start_serve(env, port).proc  # the restarted server finds the job 'running' and queues it again
    try:
        deadline = time.time() + 300
        while time.time() < deadline:
            job = httpx.get(f"{base}/v1/jobs/{job_id}").json()
            if job["state"] not in {"queued", "running"}:
                break
            time.sleep(0.2)
        assert job["state"] == "succeeded" and job["attempts"] == 2, job
        assert httpx.get(f"{base}/v1/documents").json()["total"] == 60
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    manifest = tmp_path / "data" / "collections" / "default" / "manifest.sqlite"
    with sqlite3.connect(manifest) as db:
        docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT doc_id || text) FROM chunks"
        ).fetchone()
    assert docs == 60 and chunks == distinct
