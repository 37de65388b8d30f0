"""Robustness soak on real processes (loopback only, bounded): kills during ingestion, search load beside a
writer, schemathesis over every operation, and memory while a decompression bomb is ingested.

    python bench/soak.py                      # all four at the issue's sizes (≈ 10 min on 2 cores)
    python bench/soak.py --only kills --kills 20
    python bench/soak.py --smoke              # seconds-long check that the script works (CI)

Prints a table and writes bench/results/soak.json. The baseline of the kill soak is the same corpus ingested
once without interruption, in the same run: killed runs must end with exactly its documents and chunks.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import REPO, RESULTS, machine, percentiles, table, write_json
from tests.fixed_model import FixedAnswerServer
from tests.hostile.files import docx_bomb
from tests.processes import env_for, serving

CLI = [sys.executable, "-m", "ragqa.cli"]


def _corpus(folder: Path, files: int, sentences: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(5)
    words = [
        "harbour",
        "lighthouse",
        "keeper",
        "storm",
        "lamp",
        "cape",
        "ship",
        "wall",
        "stone",
        "tide",
        "log",
        "beacon",
        "rock",
        "fog",
        "bell",
    ]
    for i in range(files):
        body = " ".join(
            f"Record {i}.{j} says the {rng.choice(words)} near the {rng.choice(words)} was {rng.randint(1, 999)}."
            for j in range(sentences)
        )
        (folder / f"f{i:04d}.txt").write_text(body)
    return folder


def _counts(data: Path) -> tuple[int, int, int]:
    with sqlite3.connect(data / "collections" / "default" / "manifest.sqlite") as db:
        docs = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks, distinct = db.execute(
            "SELECT COUNT(*), COUNT(DISTINCT doc_id || text) FROM chunks"
        ).fetchone()
    return docs, chunks, distinct


def kills(work: Path, n: int, files: int) -> dict[str, Any]:
    corpus = _corpus(work / "kill-corpus", files, 40)
    clean = work / "clean"
    subprocess.run([*CLI, "ingest", str(corpus)], env=env_for(clean), check=True, capture_output=True)
    expected = _counts(clean)
    data = work / "killed"
    env = env_for(data, commit_every="64")
    rng = random.Random(11)
    killed = 0
    started = time.perf_counter()
    for _ in range(n):
        proc = subprocess.Popen(
            [*CLI, "ingest", str(corpus)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(rng.uniform(0.5, 4.0))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            killed += 1
        proc.wait()
    final = subprocess.run([*CLI, "ingest", str(corpus), "--json"], env=env, capture_output=True, text=True)
    docs, chunks, distinct = _counts(data)
    return {
        "kills": killed,
        "files": files,
        "expected_documents": expected[0],
        "expected_chunks": expected[1],
        "documents": docs,
        "chunks": chunks,
        "lost_documents": expected[0] - docs,
        "duplicated_chunks": chunks - distinct,
        "final_exit": final.returncode,
        "seconds": round(time.perf_counter() - started, 1),
    }


async def _searchers(url: str, clients: int, seconds: float) -> tuple[list[float], int, int]:
    latencies: list[float] = []
    errors = 0
    requests = 0
    stop_at = time.perf_counter() + seconds
    queries = [
        "lighthouse keeper",
        "storm near the cape",
        "harbour wall stones",
        "fog bell beacon",
        "tide log",
    ]

    async def one(i: int) -> None:
        nonlocal errors, requests
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            while time.perf_counter() < stop_at:
                t0 = time.perf_counter()
                try:
                    r = await client.post("/v1/search", json={"query": queries[(i + requests) % 5], "k": 10})
                    ok = r.status_code == 200 and bool(r.json()["hits"])
                except httpx.HTTPError:
                    ok = False
                requests += 1
                errors += not ok
                latencies.append((time.perf_counter() - t0) * 1000)

    await asyncio.gather(*(one(i) for i in range(clients)))
    return latencies, errors, requests


def load(work: Path, clients: int, seconds: float, files: int = 200) -> dict[str, Any]:
    corpus = _corpus(work / "load-corpus", files, 20)
    data = work / "load"
    env = env_for(data, api_rate_limit="0")
    subprocess.run([*CLI, "ingest", str(corpus)], env=env, check=True, capture_output=True)
    with serving(env) as server:
        stop = threading.Event()
        writes: list[str] = []

        def writer() -> None:  # a concurrent writer: an upload job every second, each committing
            i = 0
            while not stop.is_set():
                text = f"Writer note {i}: the lighthouse keeper logged storm {i}.".encode()
                r = server.client.post("/v1/documents", files=[("files", (f"w{i}.txt", text, "text/plain"))])
                writes.append(server.wait_job(r.json()["id"])["state"])
                i += 1
                stop.wait(1.0)

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        latencies, errors, requests = asyncio.run(_searchers(server.url, clients, seconds))
        stop.set()
        thread.join(60)
    return {
        "clients": clients,
        "seconds": seconds,
        "requests": requests,
        "errors": errors,
        "writer_jobs": len(writes),
        "writer_jobs_succeeded": writes.count("succeeded"),
        **percentiles(latencies),
    }


def fuzz(work: Path, max_examples: int) -> dict[str, Any]:
    st = shutil.which("st")
    if st is None:
        raise SystemExit("schemathesis (st) is not installed: pip install -e '.[test]'")
    model = FixedAnswerServer("The sources say so [1].")
    data = work / "fuzz"
    env = env_for(
        data,
        api_rate_limit="0",
        llm_backend="openai",
        llm_base_url=model.url,
        llm_model="fixed",
        llm_context="4096",
    )
    subprocess.run([*CLI, "ingest", str(REPO / "docs")], env=env, check=True, capture_output=True)
    with serving(env) as server:
        proc = subprocess.run(
            [
                st,
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-examples",
                str(max_examples),
                "--request-timeout",
                "60",
                "--workers",
                "1",
                "--seed",
                "1",
                "--report-dir",
                str(work / "st"),
            ],
            capture_output=True,
            text=True,
            timeout=3600,
        )
    model.close()
    out = proc.stdout
    summary = out.split("SUMMARY")[-1]
    cases = re.search(r"Test cases:\s*([\d,]+) generated", summary)
    operations = re.search(r"Tested: (\d+)", summary)
    failures = re.findall(r"^\s*❌\s*(.+)$", summary, re.M)
    return {
        "exit": proc.returncode,
        "operations": int(operations.group(1)) if operations else None,
        "cases": int(cases.group(1).replace(",", "")) if cases else None,
        "server_errors": summary.count("Server error"),
        "schema_violations": summary.count("Response violates schema"),
        "failures": failures[:20],
        "summary": summary.strip()[-1500:],
    }


def bomb(work: Path) -> dict[str, Any]:
    """RSS above the idle server while it ingests a DOCX that inflates to 300 MB: once from cold (the first
    upload also loads the embedder), once with the embedder already loaded (the peak is reset before)."""
    data = work / "bomb"
    payload = docx_bomb()
    bomb_file = ("files", ("bomb.docx", payload, "application/octet-stream"))
    with serving(env_for(data)) as server:
        time.sleep(1)
        idle = server.rss_kb()
        good = ("files", ("good.txt", b"A good file about the lighthouse keeper.", "text/plain"))
        cold = server.wait_job(server.client.post("/v1/documents", files=[bomb_file, good]).json()["id"])
        cold_peak = server.rss_kb("VmHWM")
        warm_idle = server.rss_kb()
        Path(f"/proc/{server.proc.pid}/clear_refs").write_text("5")  # reset the peak (VmHWM)
        renamed = ("files", ("bomb2.docx", payload, "application/octet-stream"))
        warm = server.wait_job(server.client.post("/v1/documents", files=[renamed]).json()["id"])
        warm_peak = server.rss_kb("VmHWM")
    return {
        "bomb_kb": len(payload) // 1024,
        "inflates_mb": 300,
        "job_state": cold["state"],
        "bomb_error": cold["errors"][0]["reason"] if cold["errors"] else None,
        "idle_rss_mb": round(idle / 1024),
        "peak_rss_mb": round(cold_peak / 1024),
        "above_idle_mb": round((cold_peak - idle) / 1024),
        "warm_job_state": warm["state"],
        "warm_idle_rss_mb": round(warm_idle / 1024),
        "warm_above_idle_mb": round((warm_peak - warm_idle) / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only",
        nargs="*",
        choices=["kills", "load", "fuzz", "bomb"],
        help="repeat these (the rest are kept)",
    )
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--examples", type=int, default=100, help="schemathesis examples per operation")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: check the script works (CI)")
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    args = parser.parse_args()
    if args.smoke:
        args.kills, args.clients, args.seconds, args.examples = 1, 2, 1, 2
    which = args.only or ["kills", "load", "fuzz", "bomb"]
    results: dict[str, Any] = {"machine": machine(), "smoke": args.smoke}
    if args.only and args.out.is_file():  # a partial run updates the checks it repeats, keeps the others
        results = {**json.loads(args.out.read_text()), **results}
    with tempfile.TemporaryDirectory(prefix="ragqa-soak-") as tmp:
        work = Path(tmp)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        if "kills" in which:
            results["kills"] = kills(work, args.kills, 16 if args.smoke else 300)
        if "load" in which:
            results["load"] = load(work, args.clients, args.seconds, 20 if args.smoke else 200)
        if "fuzz" in which:
            results["fuzz"] = fuzz(work, args.examples)
        if "bomb" in which:
            results["bomb"] = bomb(work)
    rows = []
    if k := results.get("kills"):
        rows.append(
            [
                "SIGKILL during ingest",
                f"{k['kills']} kills, {k['files']} files",
                f"{k['lost_documents']} lost, {k['duplicated_chunks']} duplicated",
            ]
        )
    if ld := results.get("load"):
        rows.append(
            [
                f"/v1/search × {ld['clients']} clients, {ld['seconds']:g} s + writer",
                f"{ld['requests']} requests, {ld['writer_jobs']} writer jobs",
                f"{ld['errors']} errors, p50 {ld['p50_ms']:.1f} ms, p99 {ld['p99_ms']:.1f} ms",
            ]
        )
    if f := results.get("fuzz"):
        rows.append(
            [
                "schemathesis, every operation",
                f"{f['cases']} cases, {f['operations']} operations",
                f"{f['server_errors']} server errors, {f['schema_violations']} schema violations",
            ]
        )
    if b := results.get("bomb"):
        rows.append(
            [
                f"DOCX bomb ({b['bomb_kb']} KB → 300 MB)",
                f"job {b['job_state']}",
                f"peak RSS +{b['above_idle_mb']} MB cold (loads the embedder too), "
                f"+{b['warm_above_idle_mb']} MB warm; idle {b['idle_rss_mb']} MB",
            ]
        )
    print(table(["check", "size", "result"], rows))
    write_json(args.out, results)
    print(f"results: {args.out}")


if __name__ == "__main__":
    main()
