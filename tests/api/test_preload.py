"""``ragqa serve`` loads the embedded answer model in the background at start (``API_PRELOAD_MODEL``, on by
default): readiness says so while it loads and after, without a question asked; a model that cannot load makes
the server not ready, with the error's code, while search still serves."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.processes import Served, env_for, serving, upload_docs


def _readiness(served: Served, done: Callable[[str], bool], timeout: float = 120) -> list[str]:
    """The readiness ``generation`` details seen, in order, polled until one is ``done``."""
    seen: list[str] = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        detail = served.client.get("/readyz").json()["checks"]["generation"]
        if not seen or seen[-1] != detail:
            seen.append(detail)
        if done(detail):
            return seen
        time.sleep(0.1)
    raise AssertionError(f"readiness never got there: {seen}")


def test_serve_loads_the_answer_model_before_the_first_question(
    tmp_path: Path, docs_dir: Path, small_model: Path
) -> None:
    env = env_for(
        tmp_path / "data", api_preload_model="true", llm_backend="llamacpp", llm_model=str(small_model)
    )
    with serving(env) as served:
        seen = _readiness(served, lambda detail: detail == "ok")  # loaded, and no question asked yet
        assert set(seen) <= {"ok: the embedded model is loading in the background", "ok"}, seen
        upload_docs(served.client, docs_dir)
        body = {"question": "What does RAGQA_DATA_DIR hold?", "k": 2, "sampling": {"max_tokens": 30}}
        answer = served.client.post("/v1/query", json=body)
        assert answer.status_code == 200 and answer.json()["answer"], answer.text


def test_a_model_that_cannot_load_makes_the_server_not_ready_but_search_serves(
    tmp_path: Path, docs_dir: Path
) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"GGUF" + bytes(range(256)) * 64)
    env = env_for(tmp_path / "data", api_preload_model="true", llm_backend="llamacpp", llm_model=str(broken))
    with serving(env) as served:
        upload_docs(served.client, docs_dir)
        seen = _readiness(served, lambda detail: detail.startswith("model_file"))
        ready = served.client.get("/readyz")
        assert ready.status_code == 503 and "broken.gguf" in ready.json()["checks"]["generation"], seen
        hits = served.client.post("/v1/search", json={"query": "RAGQA_DATA_DIR"})
        assert hits.status_code == 200 and hits.json()["hits"]
        asked = served.client.post("/v1/query", json={"question": "What does RAGQA_DATA_DIR hold?"})
        body = asked.json()  # the sources found, and why there is no answer
        assert asked.status_code == 503 and body["error_code"] == "model_file" and body["sources"], asked.text
