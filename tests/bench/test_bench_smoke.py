"""Benchmarks are not timed tests: CI only checks that each script runs in its tiny smoke mode."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_api_bench_smoke(tmp_path: Path) -> None:
    out = tmp_path / "api.json"
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench" / "api.py"), "--smoke", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "p50 ms" in proc.stdout
    result = json.loads(out.read_text())
    assert [lv["concurrency"] for lv in result["levels"]] == [1, 2]
    assert all(lv["errors"] == 0 and lv["requests"] > 0 for lv in result["levels"])
