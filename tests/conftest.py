"""Shared fixtures: real embedder (loaded once), isolated data dirs, the shared public data sets by path."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tests.cores import TEST_THREADS

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("RAGQA_THREADS", str(TEST_THREADS))  # subprocesses too
# One model cache for the whole run (joined GGUF files, converted embedders), as a user would share it.
os.environ.setdefault(
    "RAGQA_MODELS_DIR", str(Path(tempfile.gettempdir()) / f"ragqa-test-models-{os.getuid()}")
)

import pytest

from ragqa.config import Settings, load_settings
from ragqa.filelock import exclusive
from ragqa.generation.llamacpp_backend import LlamaCppBackend, LlamaCppServer
from ragqa.generation.models import resolve_model_file
from ragqa.retrieval.embedders import Embedder, get_embedder

if TYPE_CHECKING:  # the fixture imports it: OpenVINO is slow to import for tests that never use it
    from ragqa.generation.openvino_backend import OpenVINOBackend

pytest_plugins = ("tests.live_server",)  # the live_server fixture: a real uvicorn per test

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("RAGQA_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("RAGQA_") and key not in {"RAGQA_THREADS", "RAGQA_SHARED_DATA", "RAGQA_MODELS_DIR"}:
            monkeypatch.delenv(key)
    # A server loads the answer model at start by default; tests that never ask would each load it for nothing
    # (tests/api/test_preload.py turns it back on).
    monkeypatch.setenv("RAGQA_API_PRELOAD_MODEL", "false")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(data_dir=tmp_path / "data")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return get_embedder(load_settings())


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"public data sets not found at {SHARED_DATA} (set RAGQA_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture
def docs_dir() -> Path:
    return REPO / "docs"


# Real llama.cpp models, from PyPI packages, joined once per test session: Qwen2.5-Coder-0.5B for backend
# mechanics (fast), the default 1.5B for answer behaviour.
@pytest.fixture(scope="session")
def models_dir() -> Path:
    path = Path(os.environ["RAGQA_MODELS_DIR"])
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def small_model(models_dir: Path) -> Path:
    return resolve_model_file("qwen2.5-coder-0.5b", models_dir)


@pytest.fixture(scope="session")
def default_model(models_dir: Path) -> Path:
    return resolve_model_file("qwen2.5-coder-1.5b", models_dir)


@pytest.fixture(scope="session")
def small_backend(small_model: Path) -> Iterator[LlamaCppBackend]:
    backend = LlamaCppBackend(small_model, context=2048, threads=TEST_THREADS, timeout=120)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def default_backend(default_model: Path) -> Iterator[LlamaCppBackend]:
    """The default answer model (Qwen2.5-Coder-1.5B), shared by the answer and eval tests."""
    backend = LlamaCppBackend(default_model, context=4096, threads=TEST_THREADS, timeout=300)
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def default_openvino(default_model: Path, models_dir: Path) -> Iterator[OpenVINOBackend]:
    """The default answer runtime where the CPU computes in bfloat16: OpenVINO GenAI on the 8-bit export of the
    default GGUF (made once into the test model cache, under a lock when two workers want it at once)."""
    from ragqa.generation.openvino_backend import OpenVINOBackend
    from ragqa.generation.ov_export import ov_model_dir

    backend = OpenVINOBackend(
        ov_model_dir(default_model.stem, models_dir), context=4096, threads=TEST_THREADS, timeout=300
    )  # one thread decodes 1.5–3 tokens/s on the 2-core machine when its neighbours are busy
    yield backend
    backend.close()


@pytest.fixture(scope="session")
def small_server(small_model: Path) -> Iterator[LlamaCppServer]:
    """A separate llama.cpp OpenAI-compatible server on 127.0.0.1, for the ``openai`` backend."""
    server = LlamaCppServer(small_model, context=2048, threads=TEST_THREADS)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tiny_verifier(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``ragqa train verifier`` as a user runs it, on 48 XQuAD-en examples and one epoch (the training path; the
    shipped model is tested in tests/generation/verify/test_shipped_verifier.py): trained once per run, shared by
    the verifier's tests and its benchmark's smoke run — by every xdist worker of the run (the first trains it, the
    others wait on the lock and reuse it)."""
    base = tmp_path_factory.getbasetemp()
    run = (
        base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    )  # the workers' basetemps share a parent
    out = run / "tiny-verifier" / "model"
    with exclusive(out.parent):
        if not (out / "manifest.json").is_file():
            _train_tiny_verifier(shared_data, out)
    return out


def _train_tiny_verifier(shared_data: Path, out: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ragqa.cli", "train", "verifier", "--squad", str(shared_data / "xquad" / "xquad.en.json"),
         "--out", str(out), "--epochs", "1", "--limit", "48"],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f"claim verifier written to {out}" in proc.stdout
