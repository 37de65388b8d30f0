"""ragqa as a user runs it: the CLI and ``ragqa serve`` as real processes, with their own environment."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from ragqa.generation.llamacpp_backend import free_port
from ragqa.ingest.jobs import FINISHED_STATES


def env_for(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {**os.environ, "RAGQA_DATA_DIR": str(data_dir), "RAGQA_LOG_LEVEL": "WARNING"}
    env.update({f"RAGQA_{k.upper()}": v for k, v in settings.items()})
    return env


def ragqa(*args: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragqa.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def wait_for_job(client: httpx.Client, job_id: str, timeout: float = 300) -> dict[str, Any]:
    """Poll an ingestion job until it finishes; its last state."""
    deadline = time.time() + timeout
    job: dict[str, Any] = {}
    while time.time() < deadline:
        job = client.get(f"/v1/jobs/{job_id}").json()
        if job["state"] in FINISHED_STATES:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


def upload_docs(client: httpx.Client, docs_dir: Path) -> dict[str, Any]:
    """Upload the Markdown files of ``docs_dir`` in one job and wait for it."""
    files = [("files", (p.name, p.read_bytes(), "text/markdown")) for p in sorted(docs_dir.glob("*.md"))]
    response = client.post("/v1/documents", files=files)
    assert response.status_code == 202, response.text
    return wait_for_job(client, response.json()["id"])


class Served:
    def __init__(self, proc: subprocess.Popen[bytes], port: int) -> None:
        self.proc, self.port = proc, port
        self.url = f"http://127.0.0.1:{port}"
        self.client = httpx.Client(base_url=self.url, timeout=120)

    def rss_kb(self, field: str = "VmRSS") -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
        raise AssertionError(f"no {field} for pid {self.proc.pid}")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def wait_job(self, job_id: str, timeout: float = 300) -> dict[str, Any]:
        return wait_for_job(self.client, job_id, timeout)


def start_serve(
    env: dict[str, str], port: int | None = None, *, prefix: tuple[str, ...] = (), args: tuple[str, ...] = ()
) -> Served:
    port = port or free_port()
    log = tempfile.TemporaryFile()  # noqa: SIM115 - a pipe could fill and block the server
    proc = subprocess.Popen(
        [*prefix, sys.executable, "-m", "ragqa.cli", "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    deadline = time.time() + 90
    while time.time() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise AssertionError(f"ragqa serve exited {proc.returncode}: {log.read().decode()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return Served(proc, port)
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise AssertionError("ragqa serve did not come up")


@contextmanager
def serving(env: dict[str, str], *, prefix: tuple[str, ...] = ()) -> Iterator[Served]:
    served = start_serve(env, prefix=prefix)
    try:
        yield served
    finally:
        if served.proc.poll() is None:
            served.proc.send_signal(signal.SIGTERM)
            try:
                served.proc.wait(30)
            except subprocess.TimeoutExpired:
                served.kill()
