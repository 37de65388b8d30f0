"""A deterministic synthetic extension of a corpus: word-bigram text trained on the corpus itself, so the
vocabulary, word frequencies, word pairs and passage lengths look like the real documents, but no passage is
relevant to any real query (distractors at scale)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence

import numpy as np

_WORD = re.compile(r"\S+")
_END = re.compile(r"[.!?]$")


class BigramText:
    def __init__(self, texts: Sequence[str]) -> None:
        vocab: dict[str, int] = {}
        successors: dict[int, list[int]] = {}
        starts: list[int] = []
        lengths: list[int] = []
        for text in texts:
            words = _WORD.findall(text)
            if not words:
                continue
            lengths.append(len(words))
            ids = [vocab.setdefault(w, len(vocab)) for w in words]
            starts.append(ids[0])
            for a, b in itertools.pairwise(ids):
                successors.setdefault(a, []).append(b)
        self.words = list(vocab)
        self.successors = {k: np.asarray(v, dtype=np.int32) for k, v in successors.items()}
        self.starts = np.asarray(starts, dtype=np.int32)
        self.lengths = np.asarray(lengths, dtype=np.int32)

    def passages(self, n: int, *, seed: int = 0, max_words: int = 100) -> Iterator[str]:
        """``n`` passages with the corpus's length distribution, capped at ``max_words``: 100 words are ~155
        MiniLM tokens on SciFact's vocabulary (99th percentile 192), so each passage is one 200-token chunk."""
        rng = np.random.default_rng(seed)
        for _ in range(n):
            length = int(min(rng.choice(self.lengths), max_words))
            word = int(rng.choice(self.starts))
            out = [word]
            while len(out) < length:
                nxt = self.successors.get(word)
                word = int(rng.choice(self.starts)) if nxt is None else int(nxt[rng.integers(len(nxt))])
                out.append(word)
            text = " ".join(self.words[w] for w in out)
            yield text if _END.search(text) else text + "."
