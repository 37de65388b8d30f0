"""A file that kills the server must not crash-loop it: after the second death on the same file the job gives
that file up with its own error and finishes the rest."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from tests.processes import Served, env_for, start_serve


def _current_file(data: Path, job_id: str) -> str | None:
    with sqlite3.connect(data / "jobs.sqlite") as db:
        row = db.execute("SELECT current_file, state FROM jobs WHERE id=?", (job_id,)).fetchone()
    return row[0] if row and row[1] == "running" else None


def _kill_while_reading(server: Served, data: Path, job_id: str, name: str) -> None:
    deadline = time.time() + 120
    while time.time() < deadline:
        current = _current_file(data, job_id)
        if current and Path(current).name == name:
            server.kill()  # the process dies while this file is being read (as a bomb would kill it)
            return
        time.sleep(0.05)
    server.kill()
    raise AssertionError(f"the job never reached {name}")


def test_a_file_that_kills_the_server_is_given_up_after_two_deaths(tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = env_for(data)
    heavy = " ".join(f"Heavy sentence {i} about the harbour wall and its {i} stones." for i in range(40_000))
    files = [
        ("files", ("first.txt", b"The first lighthouse was lit in 1850.", "text/plain")),
        ("files", ("heavy.txt", heavy.encode(), "text/plain")),
        ("files", ("last.txt", b"The last lighthouse was lit in 1999.", "text/plain")),
    ]
    server = start_serve(env)
    job_id = server.client.post("/v1/documents", files=files).json()["id"]
    _kill_while_reading(server, data, job_id, "heavy.txt")
    server = start_serve(env, server.port)  # restarted: the job is queued again, the death counted
    _kill_while_reading(server, data, job_id, "heavy.txt")
    server = start_serve(env, server.port)
    try:
        job = server.wait_job(job_id)
        assert job["state"] == "succeeded_with_errors" and job["attempts"] == 3, job
        [error] = job["errors"]
        assert Path(error["path"]).name == "heavy.txt" and "gave up" in error["reason"], error
        titles = {d["title"] for d in server.client.get("/v1/documents").json()["documents"]}
        assert titles == {"first", "last"}
    finally:
        server.kill()
