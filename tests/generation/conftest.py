"""Real llama.cpp models for the generation tests: Qwen2.5-Coder-0.5B for backend mechanics (fast), the
default 1.5B for answer behaviour. Both come from PyPI packages and are joined once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ragqa.generation.llamacpp_backend import LlamaCppBackend, LlamaCppServer
from ragqa.generation.models import resolve_model_file


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def small_model(models_dir: Path) -> Path:
    return resolve_model_file("qwen2.5-coder-0.5b", models_dir)


@pytest.fixture(scope="session")
def default_model(models_dir: Path) -> Path:
    return resolve_model_file("qwen2.5-coder-1.5b", models_dir)


@pytest.fixture(scope="session")
def small_backend(small_model: Path) -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend(small_model, context=2048, threads=2, timeout=120)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def small_server(small_model: Path) -> Iterator[LlamaCppServer]:
    """A separate llama.cpp OpenAI-compatible server on 127.0.0.1, for the ``openai`` backend."""
    server = LlamaCppServer(small_model, context=2048, threads=2)
    yield server
    server.stop()
