"""``ragqa serve --workers 2``: whichever worker answers ``/metrics`` reports the requests of both."""

from __future__ import annotations

import os
import re
from pathlib import Path

import httpx

from tests.processes import start_serve

_JOBS = re.compile(
    r'^ragqa_http_requests_total\{endpoint="/v1/jobs",method="GET",status="200"\} (\S+)$', re.M
)


def test_metrics_are_summed_over_workers(tmp_path: Path) -> None:
    data = tmp_path / "data"
    served = start_serve({**os.environ, "RAGQA_DATA_DIR": str(data)}, args=("--workers", "2"))
    try:
        for _ in range(40):  # a new connection each: the workers share the listening socket
            assert httpx.get(f"{served.url}/v1/jobs", timeout=30).status_code == 200
        for _ in range(5):
            text = httpx.get(f"{served.url}/metrics", timeout=30).text
            match = _JOBS.search(text)
            assert match and float(match.group(1)) == 40.0, text[:2000]
        writers = {p.stem.rsplit("_", 1)[-1] for p in (data / "run" / "prometheus").glob("*.db")}
        assert len(writers) >= 2, writers  # both worker processes wrote samples
    finally:
        served.kill()
