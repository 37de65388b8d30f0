"""Side doors and error mapping: the embedded model server's key, readiness that loads nothing and tells
strangers nothing, rate limits that made-up keys cannot dodge, throttled key guessing, refused malformed key
hashes, generation timeouts as 504, and streamed answers counted against the model slots."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ragqa.api.security import hash_key
from ragqa.config import load_settings
from ragqa.errors import ConfigError
from ragqa.generation.llamacpp_backend import LlamaCppServer
from ragqa.generation.openai_backend import OpenAIBackend
from tests.processes import env_for, ragqa, upload_docs

ServerFactory = Callable[..., Any]


class StallingServer:
    """Accepts connections and never answers: a model server that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                self.connections.append(self.sock.accept()[0])
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()
        for conn in self.connections:
            conn.close()


@pytest.fixture
def stalling() -> Iterator[StallingServer]:
    server = StallingServer()
    yield server
    server.close()


def test_embedded_model_server_needs_its_key(small_server: LlamaCppServer) -> None:
    body = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 2}
    url = f"{small_server.url}/v1/chat/completions"
    assert httpx.post(url, json=body, timeout=60).status_code == 401
    keyed = httpx.post(
        url, json=body, headers={"Authorization": f"Bearer {small_server.api_key}"}, timeout=60
    )
    assert keyed.status_code == 200


def test_readyz_checks_the_binding_verifiers_weights_when_it_is_on(live_server: ServerFactory) -> None:
    # loopback, no keys: an operator's view
    checks = httpx.get(f"{live_server().url}/readyz").json()["checks"]
    assert checks["binding"] == "ok"  # on by default; the weights match their pinned SHA-256
    off = httpx.get(f"{live_server(verify_binding=False).url}/readyz").json()["checks"]
    assert "binding" not in off


def test_readyz_loads_no_model_and_tells_strangers_nothing(live_server: ServerFactory) -> None:
    server = live_server(api_key_hashes=[hash_key("s3cret")])
    services = server.server.config.app.state.services
    stranger = httpx.get(f"{server.url}/readyz")
    assert stranger.json()["checks"] == {} and not services.backend_loaded
    known = httpx.get(f"{server.url}/readyz", headers={"X-API-Key": "s3cret"}).json()
    assert set(known["checks"]) == {"index", "generation", "binding"} and not services.backend_loaded
    assert known["checks"]["generation"].startswith("ok: embedded model loads on the first question")


def test_made_up_keys_do_not_dodge_the_rate_limit(live_server: ServerFactory) -> None:
    server = live_server(api_rate_limit=3)
    statuses = [
        httpx.get(f"{server.url}/v1/jobs", headers={"X-API-Key": uuid.uuid4().hex}).status_code
        for _ in range(6)
    ]
    assert statuses.count(429) >= 2, statuses


def test_failed_authentications_are_throttled(live_server: ServerFactory) -> None:
    server = live_server(api_key_hashes=[hash_key("s3cret")], api_auth_failures=5)
    statuses = [
        httpx.get(f"{server.url}/v1/jobs", headers={"X-API-Key": f"guess{i}"}).status_code for i in range(8)
    ]
    assert statuses[:5] == [401] * 5 and statuses[5:] == [429] * 3, statuses
    last = httpx.get(f"{server.url}/v1/jobs", headers={"X-API-Key": "guess-again"})
    assert last.json()["error"]["code"] == "too_many_failed_authentications" and "Retry-After" in last.headers
    assert httpx.get(f"{server.url}/v1/jobs", headers={"X-API-Key": "s3cret"}).status_code == 200


@pytest.mark.parametrize("bad", ["not-a-hash", "", "sha256:", "sha256:" + "0" * 63])
def test_malformed_key_hashes_are_refused_at_start_up(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ConfigError, match="sha256"):
        load_settings(api_key_hashes=[hash_key("fine"), bad])
    serve = ragqa("serve", env=env_for(tmp_path / "data", api_key_hashes=json.dumps([bad])), timeout=60)
    assert serve.returncode == 2 and "hash-key" in serve.stderr and "Traceback" not in serve.stderr


def test_generation_timeout_is_504_everywhere(
    live_server: ServerFactory, stalling: StallingServer, docs_dir: Path, tmp_path: Path
) -> None:
    backend = OpenAIBackend(stalling.url, model="hung", timeout=1, context_window=2048)
    server = live_server(backend)
    client = httpx.Client(base_url=server.url, timeout=60)
    upload_docs(client, docs_dir)
    query = client.post("/v1/query", json={"question": "How are BM25 and dense results fused?"})
    assert query.status_code == 504 and query.json()["error_code"] == "generation_timeout"
    assert query.json()["sources"]  # the retrieved sources still come back
    chat = client.post(
        "/v1/chat/completions", json={"messages": [{"role": "user", "content": "How is BM25 fused?"}]}
    )
    assert chat.status_code == 504 and chat.json()["error"]["code"] == "generation_timeout"

    env = env_for(
        tmp_path / "cli",
        llm_backend="openai",
        llm_base_url=stalling.url,
        llm_model="hung",
        llm_timeout="1",
        llm_context="2048",
    )
    assert ragqa("ingest", str(docs_dir), env=env).returncode == 0
    ask = ragqa("ask", "How are BM25 and dense results fused?", env=env)
    assert ask.returncode == 5 and "timed out" in ask.stderr


def test_streamed_answers_take_a_model_slot(
    live_server: ServerFactory, stalling: StallingServer, docs_dir: Path
) -> None:
    backend = OpenAIBackend(stalling.url, model="hung", timeout=4, context_window=2048)
    server = live_server(backend, api_model_concurrency=1)
    slots = server.server.config.app.state.services.model_slots
    client = httpx.Client(base_url=server.url, timeout=60)
    upload_docs(client, docs_dir)
    events: list[str] = []
    body = {"question": "How are BM25 and dense results fused?", "stream": True}
    streaming = threading.Thread(target=lambda: events.append(client.post("/v1/query", json=body).text))
    streaming.start()
    deadline = time.time() + 3
    while slots.borrowed_tokens == 0 and time.time() < deadline:
        time.sleep(0.02)
    assert slots.borrowed_tokens == 1  # the stream holds the one slot while the model works
    streaming.join(60)
    assert slots.borrowed_tokens == 0 and "event: error" in events[0] and "generation_timeout" in events[0]


def test_every_openapi_reference_resolves(live_server: ServerFactory) -> None:
    spec = httpx.get(f"{live_server().url}/openapi.json").json()
    refs = set(re.findall(r"#/components/schemas/([\w.-]+)", json.dumps(spec)))
    assert "DocumentsIn" in refs and refs <= set(spec["components"]["schemas"])


def test_openapi_declares_the_key_schemes_when_keys_are_required(live_server: ServerFactory) -> None:
    open_spec = httpx.get(f"{live_server().url}/openapi.json").json()
    assert "securitySchemes" not in open_spec["components"]  # no keys: nothing to authorize
    spec = httpx.get(f"{live_server(api_key_hashes=[hash_key('s3cret')]).url}/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer" and schemes["apiKey"]["name"] == "X-API-Key"
    query = spec["paths"]["/v1/query"]["post"]
    assert {name for option in query["security"] for name in option} == {"bearer", "apiKey"}
    assert "security" not in spec["paths"]["/healthz"]["get"]
