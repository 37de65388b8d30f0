"""Hostile and odd files through the CLI and the API: each bad file gets its own reason, the good ones go in,
and nothing escapes as a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.hostile.files import good_texts, hostile_files, write_all
from tests.processes import env_for, ragqa, serving


def test_cli_ingest_reports_each_bad_file_and_keeps_the_good(tmp_path: Path) -> None:
    hostile = hostile_files()
    write_all(tmp_path / "in", {**good_texts(10), **{name: data for name, (data, _) in hostile.items()}})
    env = env_for(tmp_path / "data")
    run = ragqa("ingest", str(tmp_path / "in"), "--json", env=env)
    assert run.returncode == 6, run.stderr  # some files failed, the others are in
    assert "Traceback" not in run.stderr
    report = json.loads(run.stdout)
    failed = {Path(f["path"]).name: f["reason"] for f in report["failed"]}
    expected = {name: reason for name, (_, reason) in hostile.items() if reason}
    assert set(failed) == set(expected), failed
    for name, words in expected.items():
        assert words in failed[name], (name, failed[name])
    assert report["files_ingested"] == 10 + sum(1 for _, reason in hostile.values() if reason is None)
    hits = json.loads(ragqa("search", "keeper of lighthouse 7", "--json", "-k", "3", env=env).stdout)["hits"]
    assert "Lighthouse 7 stands" in hits[0]["text"]
    wide = json.loads(ragqa("search", "wide lorem", "--mode", "bm25", "--json", env=env).stdout)["hits"]
    assert any(Path(h["source"]).name == "wide.csv" for h in wide)  # a 200 KB CSV field loads


def test_all_bad_files_exit_1_and_a_pipe_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "random.txt").write_bytes(hostile_files()["random.txt"][0])
    pipe = tmp_path / "in" / "pipe.txt"
    import os

    os.mkfifo(pipe)
    run = ragqa(
        "ingest", str(tmp_path / "in" / "random.txt"), str(pipe), env=env_for(tmp_path / "data"), timeout=120
    )
    assert run.returncode == 1 and "not a regular file" in run.stderr and "not readable text" in run.stderr


def test_api_job_lists_each_bad_file_and_the_bomb_stays_small(tmp_path: Path) -> None:
    hostile = hostile_files()
    env = env_for(tmp_path / "data")
    with serving(env) as server:
        idle_kb = server.rss_kb()
        files = [("files", (n, d, "application/octet-stream")) for n, d in good_texts(3).items()]
        files += [("files", (name, data, "application/octet-stream")) for name, (data, _) in hostile.items()]
        response = server.client.post("/v1/documents", files=files)
        assert response.status_code == 202, response.text
        job = server.wait_job(response.json()["id"])
        peak_kb = server.rss_kb("VmHWM")
        assert job["state"] == "succeeded_with_errors", job
        errors = {Path(e["path"]).name: e["reason"] for e in job["errors"]}
        assert set(errors) == {n for n, (_, reason) in hostile.items() if reason}, errors
        assert "decompression bomb" in errors["bomb.docx"]
        assert server.client.get("/v1/documents").json()["total"] == 4  # 3 good + the wide CSV
        # the 300 MB bomb is refused from its declared sizes: the peak includes loading the embedder
        print(f"idle RSS {idle_kb / 1024:.0f} MB, peak while ingesting the bomb {peak_kb / 1024:.0f} MB")
        assert peak_kb - idle_kb < 1024 * 1024


def test_same_name_uploads_replace_and_delete(tmp_path: Path) -> None:
    env = env_for(tmp_path / "data")
    uploads = tmp_path / "data" / "uploads" / "default"
    with serving(env) as server:
        client = server.client

        def upload(files: list[tuple[str, bytes]], **form: str) -> dict:
            parts = [("files", (name, data, "text/plain")) for name, data in files]
            response = client.post("/v1/documents", files=parts, data=form)
            assert response.status_code == 202, response.text
            return server.wait_job(response.json()["id"])

        upload(
            [
                ("same.txt", b"The Alpha lighthouse was first lit in 1850."),
                ("same.txt", b"Beta was lit in 1901."),
            ]
        )
        upload([("same.txt", b"The Gamma lighthouse was first lit in 1920.")])  # another client, same name
        docs = client.get("/v1/documents").json()
        assert docs["total"] == 3
        again = upload([("same.txt", b"The Gamma lighthouse was first lit in 1920.")])
        assert (
            again["message"].startswith("0 added, 0 updated")
            and client.get("/v1/documents").json()["total"] == 3
        )
        search = {"query": "Gamma lighthouse", "k": 1, "mode": "bm25"}
        gamma = client.post("/v1/search", json=search).json()["hits"][0]
        assert "1920" in gamma["text"]
        replaced = upload(
            [("new.txt", b"The Gamma lighthouse was rebuilt in 2001.")], replace=gamma["doc_id"]
        )
        assert replaced["message"].startswith("0 added, 1 updated"), replaced
        hit = client.post("/v1/search", json={"query": "Gamma rebuilt", "k": 1, "mode": "bm25"}).json()[
            "hits"
        ][0]
        assert hit["doc_id"] == gamma["doc_id"] and "2001" in hit["text"]
        assert (
            client.post(
                "/v1/documents",
                files=[("files", ("x.md", b"# x", "text/plain"))],
                data={"replace": gamma["doc_id"]},
            ).status_code
            == 422
        )  # suffix must match
        assert len(list(uploads.glob("*/*"))) == 3
        assert client.delete(f"/v1/documents/{gamma['doc_id']}").status_code == 200
        assert len(list(uploads.glob("*/*"))) == 2 and client.get("/v1/documents").json()["total"] == 2


def test_reserved_metadata_and_odd_ids(tmp_path: Path) -> None:
    env = env_for(tmp_path / "data")
    odd = tmp_path / "odd.jsonl"
    odd.write_text(json.dumps({"_id": "../../evil", "text": "An id with slashes, from a file."}) + "\n")
    assert ragqa("ingest", str(odd), env=env).returncode == 0
    with serving(env) as server:
        client = server.client
        body = {
            "documents": [{"id": "meta1", "text": "original", "metadata": {"_id": "x", "text": "OVERRIDDEN"}}]
        }
        refused = client.post("/v1/documents", json=body)
        assert refused.status_code == 422 and "reserved" in refused.json()["error"]["message"]
        raw = httpx.get(f"{server.url}/v1/documents/..%2F..%2Fevil")
        assert raw.status_code == 200 and raw.json()["doc_id"] == "../../evil"
        assert httpx.delete(f"{server.url}/v1/documents/..%2F..%2Fevil").status_code == 200
        assert client.get("/v1/documents").json()["total"] == 0


def test_chunked_body_over_the_limit_gets_413(tmp_path: Path) -> None:
    env = env_for(tmp_path / "data", api_max_body_mb="1")

    def body():  # no Content-Length: sent chunked
        for _ in range(70):
            yield b"x" * (1024 * 1024)

    with serving(env) as server:
        for path in ("/v1/documents", "/v1/search"):
            response = httpx.post(
                f"{server.url}{path}",
                content=body(),
                headers={"content-type": "application/json"},
                timeout=60,
            )
            assert response.status_code == 413 and response.json()["error"]["code"] == "payload_too_large"
