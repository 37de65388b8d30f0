"""``openvino``: OpenVINO GenAI on an 8-bit export of the packaged GGUF. The backend contract (text, usage, streaming,
seeds, context overflow) runs in ``test_backends.py``; here: what only this backend has — the export, its
manifest, a GGUF its reader cannot take, the timeout, stop strings, a stream the caller abandons, and prompt
lookup."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ragqa.config import load_settings
from ragqa.errors import GenerationTimeoutError, ModelFileError
from ragqa.filelock import LOCKS
from ragqa.generation.backend import Message
from ragqa.generation.export_cache import intact
from ragqa.generation.factory import create_backend, openvino_pays_here
from ragqa.generation.llamacpp_backend import LlamaCppBackend
from ragqa.generation.openvino_backend import DEFAULT_LOOKUP_TOKENS, OpenVINOBackend
from ragqa.generation.ov_export import LAYOUT, MANIFEST, MODEL_XML, ov_model_dir
from ragqa.generation.sampling import SamplingParams
from ragqa.hashing import file_sha256
from tests.cores import TEST_THREADS

QUESTION = [Message("user", "What is the capital of France? Answer with one word.")]


@pytest.fixture(scope="module")
def folder(default_model: Path, models_dir: Path) -> Path:
    return ov_model_dir(default_model.stem, models_dir)


@pytest.fixture
def backend(folder: Path, default_openvino: OpenVINOBackend) -> OpenVINOBackend:
    """The session's OpenVINO backend (shared with the answer tests), on the export ``folder`` checks."""
    return default_openvino


def test_the_export_is_eight_bit_and_its_manifest_checks_every_file(
    folder: Path, default_model: Path
) -> None:
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["source"] == default_model.name and manifest["layout"] == LAYOUT
    assert {MODEL_XML, "openvino_model.bin", "openvino_tokenizer.xml", "openvino_detokenizer.xml"} <= set(
        manifest["files"]
    )
    weights = (folder / "openvino_model.bin").stat().st_size
    assert weights < 2 * default_model.stat().st_size  # 8-bit (1.6x the 4-bit GGUF), not a 16-bit copy (2.8x)
    assert intact(folder, default_model, LAYOUT)


def test_a_changed_file_fails_the_manifest(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF" * 10)
    folder = tmp_path / "m-ov-int8"
    folder.mkdir()
    (folder / MODEL_XML).write_text("<net/>")
    files = {MODEL_XML: file_sha256(folder / MODEL_XML)}
    manifest = {"source": gguf.name, "source_size": gguf.stat().st_size, "layout": LAYOUT, "files": files}
    (folder / MANIFEST).write_text(json.dumps(manifest))
    assert intact(folder, gguf, LAYOUT)
    (folder / MODEL_XML).write_text("<net>changed</net>")
    assert not intact(folder, gguf, LAYOUT)
    (folder / MODEL_XML).write_text("<net/>")
    (folder / MANIFEST).write_text(json.dumps({**manifest, "layout": "int8"}))
    assert not intact(folder, gguf, LAYOUT)  # another layout is another export


def test_a_gguf_the_reader_cannot_take_is_a_clear_error_and_leaves_nothing(
    small_model: Path, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / small_model.name).symlink_to(small_model)
    with pytest.raises(ModelFileError, match=f"could not export {small_model.name} for OpenVINO"):
        ov_model_dir(str(cache / small_model.name), cache)  # its quantization is not one OpenVINO reads
    left = sorted(p.name for p in cache.iterdir() if p.name != LOCKS)
    assert left == [small_model.name]  # nothing half-made


def test_a_folder_that_is_not_an_openvino_model_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not an OpenVINO model folder"):
        ov_model_dir(str(tmp_path), tmp_path)


def test_the_factory_builds_it_from_settings(folder: Path) -> None:
    made = create_backend(load_settings(llm_backend="openvino", llm_model=str(folder), llm_context=1024))
    try:
        assert isinstance(made, OpenVINOBackend) and made.context_window == 1024
    finally:
        made.close()


def test_auto_loads_the_default_model_on_openvino_and_the_small_one_on_llamacpp(
    folder: Path, small_model: Path
) -> None:
    if not openvino_pays_here():
        pytest.skip(
            "auto picks openvino only where bf16 or AVX-512 made it faster (tests/generation/test_factory.py)"
        )
    # the export that the `folder` fixture made is found in the model cache and checked
    default = create_backend(load_settings(llm_context=1024))
    small = create_backend(load_settings(llm_model=str(small_model), llm_context=1024))
    try:
        assert isinstance(default, OpenVINOBackend) and default.model == folder.name.removesuffix("-ov-int8")
        assert isinstance(small, LlamaCppBackend) and small.model == small_model.stem
    finally:
        default.close()
        small.close()


def test_stop_strings_end_the_answer(backend: OpenVINOBackend) -> None:
    count = [Message("user", "Count from 1 to 20, separated by commas.")]
    full = backend.generate(count, SamplingParams(temperature=0, max_tokens=24))  # "1, 2, …, 8" or further
    assert "7" in full.text
    stopped = backend.generate(count, SamplingParams(temperature=0, max_tokens=24, stop=("7",)))
    assert "7" not in stopped.text.split("6")[-1] and len(stopped.text) < len(full.text)


def test_a_slow_answer_times_out(backend: OpenVINOBackend) -> None:
    timeout, backend.timeout = backend.timeout, 0.5  # the session's backend: put back what it had
    try:
        with pytest.raises(GenerationTimeoutError):
            backend.generate([Message("user", "Write a long story.")], SamplingParams(max_tokens=400))
    finally:
        backend.timeout = timeout
    assert "paris" in backend.generate(QUESTION, SamplingParams(temperature=0, max_tokens=8)).text.lower()


def test_an_abandoned_stream_frees_the_model_for_the_next_request(backend: OpenVINOBackend) -> None:
    stream = backend.stream([Message("user", "Write a long story.")], SamplingParams(max_tokens=300))
    assert next(stream).delta  # the first piece, then the caller goes away
    stream.close()
    assert "paris" in backend.generate(QUESTION, SamplingParams(temperature=0, max_tokens=8)).text.lower()


def test_prompt_lookup_takes_whole_runs_of_copied_tokens_and_changes_no_word(
    backend: OpenVINOBackend, folder: Path
) -> None:
    source = (
        "The lighthouse at Kerrow Point was built in 1871 by the engineer Maren Holt, who also designed the "
        "harbour wall at Penmarrow and the signal station on the northern cliffs."
    )
    copy = [Message("user", f"Source: {source}\n\nCopy the source sentence exactly, nothing else.")]
    params = SamplingParams(temperature=0, max_tokens=60)
    assert backend.lookup_tokens == DEFAULT_LOOKUP_TOKENS  # on by default
    guessed = list(backend.stream(copy, params))
    plain_backend = OpenVINOBackend(folder, context=4096, threads=TEST_THREADS, timeout=300, lookup_tokens=0)
    try:
        plain = list(plain_backend.stream(copy, params))
    finally:
        plain_backend.close()
    text = "".join(c.delta for c in guessed)
    assert text == "".join(c.delta for c in plain) and "Maren Holt" in text  # greedy: the same answer
    tokens = guessed[-1].usage.completion_tokens
    # one piece per model step: with lookup, steps that accepted several guessed tokens at once
    assert len([c for c in guessed if c.delta]) < tokens / 2
    assert len([c for c in plain if c.delta]) >= tokens - 2
