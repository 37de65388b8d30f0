"""Sentence-transformers models (Transformer → mean pooling → normalize) run by OpenVINO on the CPU.

The torch model is converted once to OpenVINO IR (pooling and normalisation inside the graph) and cached under
``<data_dir>/models/``; later processes load the IR directly and never import torch. Measured here on
SciFact: ~2.4x the fp32 torch throughput with 0.994 top-10 overlap against fp32 rankings.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragqa.retrieval.embedders import SentenceTransformerEmbedder
from ragqa.retrieval.ov_export import compile_cpu, export_ir, ir_made_once

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)


def supports_openvino(model_path: Path) -> bool:
    """True for the architecture this converter reproduces exactly: Transformer, mean pooling, Normalize."""
    try:
        modules = json.loads((model_path / "modules.json").read_text())
        pooling = json.loads((model_path / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return False
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        pooling.get(k)
        for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens", "pooling_mode_mean_sqrt_len_tokens")
    )
    return kinds == ["Transformer", "Pooling", "Normalize"] and bool(mean_only)


def openvino_available() -> bool:
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def _convert(model_path: Path, target: Path) -> None:
    import openvino as ov
    import torch
    import transformers
    from transformers import AutoModel

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()

    class MeanPooled(torch.nn.Module):
        def __init__(self, model: Any) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()
    mask = torch.ones((2, 8), dtype=torch.long)
    mask[1, 5:] = 0  # trace with padding present, so the padded path is the one recorded
    example = {
        "input_ids": torch.full((2, 8), 1000, dtype=torch.long) * mask,
        "attention_mask": mask,
        "token_type_ids": torch.zeros((2, 8), dtype=torch.long),
    }
    shapes = [(name, [-1, -1], ov.Type.i64) for name in example]
    export_ir(MeanPooled(model), example, shapes, target, fp16=False)


class OpenVinoEmbedder(SentenceTransformerEmbedder):
    def __init__(
        self, model_path: Path, *, name: str, cache_dir: Path, threads: int = 0, batch_size: int = 32
    ):
        super().__init__(model_path, name=name, device="cpu", threads=threads, batch_size=batch_size)
        import openvino as ov

        key = hashlib.sha256(f"{model_path.resolve()}|{ov.__version__}".encode()).hexdigest()[:12]
        self.ir_dir = cache_dir / f"{model_path.parent.name}-{model_path.name}-ov-{key}"
        self._ov_lock = threading.Lock()

    @cached_property
    def _encoder_tokenizer(self) -> Tokenizer:
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
        tok.enable_truncation(self.max_tokens)
        pad_id = tok.token_to_id("[PAD]")
        tok.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
        return tok

    @property
    def model(self) -> Any:
        with self._ov_lock:
            if self._model is None:
                xml = ir_made_once(self.ir_dir, self.name, lambda: _convert(self.model_path, self.ir_dir))
                self._model = compile_cpu(xml, self._threads)
                log.info("loaded embedder %s on OpenVINO CPU (%d threads)", self.name, self._threads)
            return self._model

    def _run(self, texts: list[str]) -> np.ndarray:
        encodings = self._encoder_tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        model = self.model
        with self._ov_lock:  # a compiled model's implicit infer request is not safe across threads
            result = model({"input_ids": ids, "attention_mask": mask, "token_type_ids": types})
            return np.array(result[0], dtype=np.float32)

    def _encode(self, texts: Sequence[str], *, query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths share a batch
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(texts), self.batch_size):
            idx = order[start : start + self.batch_size]
            out[idx] = self._run([texts[i] for i in idx])
        return out
