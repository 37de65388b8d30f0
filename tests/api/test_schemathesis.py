"""Property-based fuzzing of the OpenAPI schema with schemathesis: no input may produce a 5xx.

The two generating endpoints (/v1/query, /v1/chat/completions) are left out of the fuzzing because each
generated case could ask the model for thousands of tokens; their validation has dedicated tests."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragqa.generation.llamacpp_backend import LlamaCppBackend


def test_fuzzed_requests_never_get_a_server_error(
    live_server: Callable[..., Any], small_backend: LlamaCppBackend, docs_dir: Path, tmp_path: Path
) -> None:
    st = shutil.which("st")
    if st is None:
        pytest.fail("schemathesis is not installed; install the test extra")
    server = live_server(small_backend, api_rate_limit=0)
    upload = httpx.post(
        f"{server.url}/v1/documents",
        files=[("files", ("overview.md", (docs_dir / "overview.md").read_bytes(), "text/markdown"))],
    )
    assert upload.status_code == 202
    proc = subprocess.run(
        [
            st,
            "run",
            f"{server.url}/openapi.json",
            "--checks",
            "not_a_server_error",
            "--max-examples",
            "15",
            "--exclude-path",
            "/v1/query",
            "--exclude-path",
            "/v1/chat/completions",
            "--request-timeout",
            "60",
            "--workers",
            "1",
            "--seed",
            "1",
            "--report-dir",
            str(tmp_path / "st"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert " passed" in proc.stdout and "failures" not in proc.stdout.split("SUMMARY")[-1].lower()
