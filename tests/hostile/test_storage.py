"""A full disk and a read-only data dir, made real with a private mount namespace (``unshare -m``): a small
tmpfs that fills up, and a read-only bind mount of the data dir."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import env_for, ragqa, serving


def _namespaces() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _namespaces(), reason="needs mount namespaces (unshare -m, as root)")
CLI = f"{sys.executable} -m ragqa.cli"


def _in_namespace(script: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["unshare", "-m", "bash", "-c", script], env=env, capture_output=True, text=True, timeout=600
    )


def test_disk_full_is_a_clear_error_and_the_committed_data_stays(tmp_path: Path, docs_dir: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    more = tmp_path / "more"
    more.mkdir()
    for i in range(30):
        (more / f"m{i}.txt").write_text(f"Harbour {i} had ships and a stone wall. " * 300)
    script = f"""
        mount -t tmpfs -o size=8m tmpfs {data}
        {CLI} ingest {docs_dir} > {tmp_path}/first.out 2>&1; echo $? > {tmp_path}/first.rc
        free=$(df --output=avail -k {data} | tail -1)
        dd if=/dev/zero of={data}/filler bs=1k count=$((free - 300)) 2>/dev/null
        {CLI} ingest {more} > {tmp_path}/full.out 2>&1; echo $? > {tmp_path}/full.rc
        {CLI} search 'Reciprocal Rank Fusion' --json > {tmp_path}/search.out 2>&1; echo $? > {tmp_path}/search.rc
        {CLI} stats --json > {tmp_path}/stats.out; ls {data}/collections/default/index > {tmp_path}/index.out
    """
    _in_namespace(script, env_for(data))

    def read(name: str) -> str:
        return (tmp_path / name).read_text()

    assert read("first.rc").strip() == "0", read("first.out")
    assert read("full.rc").strip() == "7", read("full.out")
    assert "disk full" in read("full.out") and "Traceback" not in read("full.out")
    assert read("search.rc").strip() == "0", read("search.out")
    assert json.loads(read("search.out"))["hits"]  # the committed generation still answers
    assert json.loads(read("stats.out"))["generation"] == 1
    assert read("index.out").split() == ["gen-00000001"]  # no half-written generation left behind


def test_read_only_data_dir_serves_and_refuses_writes(tmp_path: Path, docs_dir: Path) -> None:
    data = tmp_path / "data"
    env = env_for(data)
    assert ragqa("ingest", str(docs_dir), env=env).returncode == 0
    read_only = f'mount --bind -o ro {data} {data} && exec "$@"'
    script = f"""
        {read_only.replace(' && exec "$@"', "")}
        {CLI} search 'Reciprocal Rank Fusion' --json > {tmp_path}/search.out 2>&1; echo $? > {tmp_path}/search.rc
        {CLI} ingest {docs_dir / "overview.md"} > {tmp_path}/ingest.out 2>&1; echo $? > {tmp_path}/ingest.rc
    """
    _in_namespace(script, env)
    assert (tmp_path / "search.rc").read_text().strip() == "0", (tmp_path / "search.out").read_text()
    assert json.loads((tmp_path / "search.out").read_text())["hits"]
    assert (tmp_path / "ingest.rc").read_text().strip() == "7"
    assert "read-only" in (tmp_path / "ingest.out").read_text()

    with serving(env, prefix=("unshare", "-m", "bash", "-c", read_only, "bash")) as server:
        client = server.client
        assert client.get("/readyz").status_code == 200
        assert client.post("/v1/search", json={"query": "fusion"}).json()["hits"]
        upload = client.post("/v1/documents", files=[("files", ("a.txt", b"new text", "text/plain"))])
        assert upload.status_code == 503 and upload.json()["error"]["code"] == "read_only"
        doc_id = client.get("/v1/documents").json()["documents"][0]["doc_id"]
        delete = client.delete(f"/v1/documents/{doc_id}")
        assert delete.status_code == 503 and delete.json()["error"]["code"] == "read_only"
