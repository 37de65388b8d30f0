"""Grounded answers over the project's own docs with the default model: cited answers on both embedded runtimes
(llama.cpp and OpenVINO), the rest on the runtime ``auto`` picks on this CPU — the one a user here gets (the two
runtimes run the same GGUF; the backend contract both pass is in test_backends.py). The OpenAI-compatible
transport is tested in test_backends.py and through the API."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragqa.cjk import is_chinese
from ragqa.config import Settings
from ragqa.generation.answerer import Answerer
from ragqa.generation.backend import GenerationBackend
from ragqa.generation.factory import backend_name
from ragqa.generation.llamacpp_backend import LlamaCppBackend, free_port
from ragqa.generation.openai_backend import OpenAIBackend
from ragqa.generation.sampling import SamplingParams
from ragqa.ingest.pipeline import Ingestor
from ragqa.retrieval.service import open_searcher

PARAMS = SamplingParams(temperature=0, seed=0, max_tokens=120)


@pytest.fixture(scope="module")
def docs_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    from ragqa.config import load_settings

    docs = Path(__file__).resolve().parents[2] / "docs"
    settings = load_settings(data_dir=tmp_path_factory.mktemp("answer-data"), answer_k=3)
    with Ingestor(settings, progress=False) as ingestor:
        ingestor.ingest_paths([docs])
    return settings


def _answerer(request: pytest.FixtureRequest, settings: Settings, runtime: str) -> Answerer:
    backend: GenerationBackend = request.getfixturevalue(
        "default_backend" if runtime == "llamacpp" else "default_openvino"
    )
    return Answerer(settings, open_searcher(settings), backend)


@pytest.fixture(params=["llamacpp", "openvino"])
def answerer(request: pytest.FixtureRequest, docs_settings: Settings) -> Answerer:
    return _answerer(request, docs_settings, request.param)


@pytest.fixture
def answerer_here(request: pytest.FixtureRequest, docs_settings: Settings) -> Answerer:
    """On the runtime ``auto`` picks on this CPU."""
    return _answerer(request, docs_settings, backend_name(docs_settings))


def test_answers_from_the_docs_with_valid_citations(answerer: Answerer) -> None:
    result = answerer.answer("What happens to the index if ingestion is killed half way?", params=PARAMS)
    assert result.status == "ok" and not result.refused, result.answer
    assert result.cited and result.invalid_citations == 0
    cited_text = " ".join(result.sources[n - 1].text for n in result.cited)
    assert "previous generation" in cited_text
    assert "generation" in result.answer.lower()
    payload = result.to_json()
    assert {c["n"] for c in payload["citations"]} == set(result.cited)
    assert all(c["chunk_id"] and c["source"].endswith(".md") for c in payload["citations"])


def test_chinese_question_gets_a_chinese_answer(answerer_here: Answerer) -> None:
    result = answerer_here.answer("ragqa 用什么方法切分中文文本？", params=PARAMS)
    assert not result.refused and is_chinese(result.answer), result.answer
    assert "结巴" in result.answer
    assert result.cited and result.invalid_citations == 0


def test_declines_what_the_docs_do_not_say(answerer_here: Answerer) -> None:
    result = answerer_here.answer(
        "Which company sells commercial support contracts for ragqa, and at what price?", params=PARAMS
    )
    assert result.refused, result.answer
    # declined, or — after the retry copied a sentence — refused because nothing it said was supported
    assert result.refusal_reason in {"model_declined", "low_relevance", "unsupported"}


def test_unrelated_question_is_refused_without_calling_the_model(docs_settings: Settings) -> None:
    def no_model() -> GenerationBackend:
        raise AssertionError("the model must not be called")

    answerer = Answerer(docs_settings, open_searcher(docs_settings), no_model)
    result = answerer.answer("What is the capital of Australia?")
    assert (result.refused, result.refusal_reason, result.answer) == (True, "low_relevance", "I don't know.")
    zh = answerer.answer("澳大利亚的首都是哪里？")
    assert zh.refused and zh.answer == "我不知道。"


def test_backend_down_still_returns_sources(docs_settings: Settings) -> None:
    dead = OpenAIBackend(f"http://127.0.0.1:{free_port()}/v1", model="x", timeout=2)
    answerer = Answerer(docs_settings, open_searcher(docs_settings), dead)
    result = answerer.answer("How are BM25 and dense results fused?")
    assert (
        result.status == "generation_unavailable" and result.sources and "unreachable" in (result.error or "")
    )
    events = list(answerer.stream("How are BM25 and dense results fused?"))
    assert [e.kind for e in events] == ["sources", "done"]
    assert events[-1].answer is not None and events[-1].answer.status == "generation_unavailable"


def test_stream_sends_sources_then_tokens_then_done(
    docs_settings: Settings, default_backend: LlamaCppBackend
) -> None:
    answerer = Answerer(docs_settings, open_searcher(docs_settings), default_backend)
    events = list(answerer.stream("What does RAGQA_DATA_DIR hold?", params=PARAMS))
    kinds = [e.kind for e in events]
    assert kinds[0] == "sources" and kinds[-1] == "done" and kinds.count("token") >= 2
    final = events[-1].answer
    assert final is not None and final.answer.startswith(
        "".join(e.delta for e in events if e.kind == "token")[:20]
    )
    assert "ttft" in final.timings_ms and final.timings_ms["ttft"] > 0


def test_answer_policy(docs_settings: Settings, default_backend: LlamaCppBackend, tmp_path: Path) -> None:
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(
        "deny:\n  - pattern: '(?i)password'\n    message: Credentials are out of scope.\n"
        "canned:\n  - pattern: '(?i)licen[cs]e'\n    answer: ragqa is licensed under Apache-2.0.\n"
        "block_output:\n  - pattern: '(?i)sqlite'\n    message: Withheld by policy.\n"
    )
    answerer = Answerer(
        docs_settings.model_copy(update={"policy_file": policy_file}),
        open_searcher(docs_settings),
        default_backend,
    )
    denied = answerer.answer("What is the admin password?")
    assert (denied.refused, denied.refusal_reason, denied.answer) == (
        True,
        "policy",
        "Credentials are out of scope.",
    )
    canned = answerer.answer("What license does ragqa use?")
    assert (canned.refused, canned.status, canned.answer) == (
        False,
        "policy",
        "ragqa is licensed under Apache-2.0.",
    )
    blocked = answerer.answer("Which database records the new generation?", params=PARAMS)
    assert blocked.refusal_reason == "output_blocked" and blocked.answer == "Withheld by policy."
