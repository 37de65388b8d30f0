"""Fixtures shared by the API tests."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from ragqa.generation.llamacpp_backend import LlamaCppBackend
from tests.api.lighthouses import LIGHTHOUSES
from tests.processes import wait_for_job


@pytest.fixture(scope="module")
def lighthouse_server(live_server_module: Any, default_backend: LlamaCppBackend) -> str:
    url = live_server_module(default_backend).url
    with httpx.Client(base_url=url, timeout=60) as client:
        job = client.post("/v1/documents", json={"documents": LIGHTHOUSES})
        assert wait_for_job(client, job.json()["id"])["state"] == "succeeded"
    return url
