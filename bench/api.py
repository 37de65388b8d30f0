"""Bounded loopback load on a real ``ragqa serve``: N concurrent clients for T seconds per level.

    python bench/api.py                        # /v1/search at concurrency 1, 8, 16, 32 for 30 s each
    python bench/api.py --endpoint query --concurrency 1 4 --seconds 60
    python bench/api.py --smoke                # seconds-long check that the script works (CI)

Prints a table and writes JSON to bench/results/api-<endpoint>.json. The baseline in the same run is the same
search called in-process (no HTTP): the ratio shows what the API layer costs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

REPO = Path(__file__).resolve().parents[1]
QUERIES = [
    "How does ragqa fuse BM25 and dense results?",
    "What happens if ingestion is killed half way?",
    "Which tokenizer counts chunk tokens?",
    "What does RAGQA_DATA_DIR hold?",
    "How are Chinese texts segmented?",
    "What are the HNSW parameters?",
    "Why is a file skipped during ingestion?",
    "ragqa 如何切分中文文本？",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _client(
    client: httpx.AsyncClient, endpoint: str, stop_at: float, offset: int, out: list[tuple[float, int]]
) -> None:
    i = offset
    while time.perf_counter() < stop_at:
        question = QUERIES[i % len(QUERIES)]
        body = (
            {"query": question, "k": 10}
            if endpoint == "search"
            else {"question": question, "sampling": {"max_tokens": 64, "temperature": 0}}
        )
        t0 = time.perf_counter()
        try:
            status = (await client.post(f"/v1/{endpoint}", json=body)).status_code
        except httpx.HTTPError:
            status = 0
        out.append(((time.perf_counter() - t0) * 1000, status))
        i += 1


async def _level(url: str, endpoint: str, concurrency: int, seconds: float) -> dict[str, Any]:
    results: list[tuple[float, int]] = []
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, timeout=600, limits=limits) as client:
        started = time.perf_counter()
        stop_at = started + seconds
        await asyncio.gather(*(_client(client, endpoint, stop_at, i, results) for i in range(concurrency)))
        wall = time.perf_counter() - started
    latencies = [ms for ms, status in results if status == 200]
    errors = sum(1 for _, status in results if status != 200)
    return {
        "concurrency": concurrency,
        "requests": len(results),
        "errors": errors,
        "throughput_rps": len(latencies) / wall,
        "p50_ms": float(np.percentile(latencies, 50)) if latencies else None,
        "p99_ms": float(np.percentile(latencies, 99)) if latencies else None,
    }


def _in_process_baseline(env: dict[str, str], rounds: int) -> float:
    os.environ.update(env)
    from ragqa.config import load_settings
    from ragqa.retrieval.service import open_searcher

    searcher = open_searcher(load_settings())
    searcher.search(QUERIES[0])
    times = []
    for i in range(rounds):
        t0 = time.perf_counter()
        searcher.search(QUERIES[i % len(QUERIES)], k=10)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoint", choices=["search", "query"], default="search")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8, 16, 32])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--corpus",
        type=Path,
        nargs="+",
        default=[REPO / "docs"],
        help="files or folders the server searches (e.g. ../shared/data/scifact/corpus.jsonl)",
    )
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--smoke", action="store_true", help="tiny run that only checks the script works")
    args = parser.parse_args()
    if args.smoke:
        args.concurrency, args.seconds = [1, 2], 1.0
    out = args.out or REPO / "bench" / "results" / f"api-{args.endpoint}{'-smoke' if args.smoke else ''}.json"

    work = Path(tempfile.mkdtemp(prefix="ragqa-bench-api-"))
    port = _free_port()
    env = {
        **os.environ,
        "RAGQA_DATA_DIR": str(work / "data"),
        "RAGQA_LOG_LEVEL": "WARNING",
        "RAGQA_API_RATE_LIMIT": "0",
        "RAGQA_API_MODEL_CONCURRENCY": "2",
    }
    cli = [sys.executable, "-m", "ragqa.cli"]
    subprocess.run(
        [*cli, "ingest", *map(str, args.corpus), "--no-progress"],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        httpx.post(
            f"{url}/v1/{args.endpoint}",
            timeout=600,
            json={"query": "warm up"} if args.endpoint == "search" else {"question": "warm up"},
        )
        levels = [asyncio.run(_level(url, args.endpoint, c, args.seconds)) for c in args.concurrency]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    baseline = (
        _in_process_baseline(
            {k: v for k, v in env.items() if k.startswith("RAGQA_")}, 20 if args.smoke else 200
        )
        if args.endpoint == "search"
        else None
    )
    shutil.rmtree(work, ignore_errors=True)

    print(
        f"ragqa API load, /v1/{args.endpoint}, {args.seconds:g} s per level, corpus {' '.join(map(str, args.corpus))}"
    )
    print(
        f"{'clients':>8} {'requests':>9} {'errors':>7} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9} {'p50/in-proc':>12}"
    )
    for lv in levels:
        ratio = f"{lv['p50_ms'] / baseline:.2f}x" if baseline and lv["p50_ms"] else "-"
        print(
            f"{lv['concurrency']:>8} {lv['requests']:>9} {lv['errors']:>7} {lv['throughput_rps']:>9.1f} "
            f"{lv['p50_ms'] or 0:>9.2f} {lv['p99_ms'] or 0:>9.2f} {ratio:>12}"
        )
    if baseline:
        print(f"in-process search p50 (no HTTP): {baseline:.2f} ms")
    result = {
        "endpoint": args.endpoint,
        "seconds": args.seconds,
        "corpus": [str(c) for c in args.corpus],
        "levels": levels,
        "in_process_p50_ms": baseline,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
