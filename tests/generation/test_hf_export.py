"""What decides whether a model is exported for vLLM, and the errors a user without vLLM's environment sees.
(The export itself, and vLLM serving it, run in ``test_vllm.py`` inside that environment.)"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from ragqa.config import Settings
from ragqa.errors import ConfigError, MissingExtraError, ModelFileError
from ragqa.generation.factory import create_backend
from ragqa.generation.hf_export import NEEDS, export_hf, hf_model_dir


def test_a_model_folder_is_used_as_it_is(tmp_path: Path) -> None:
    folder = tmp_path / "my-model"
    folder.mkdir()
    with pytest.raises(ModelFileError, match=r"no config\.json"):
        hf_model_dir(str(folder), tmp_path / "cache")
    (folder / "config.json").write_text("{}")
    assert hf_model_dir(str(folder), tmp_path / "cache") == folder
    assert not (tmp_path / "cache").exists()  # nothing exported, nothing joined


def test_unknown_names_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="unknown model"):
        hf_model_dir("no-such-model", tmp_path)


@pytest.mark.skipif(
    all(importlib.util.find_spec(n) for n in NEEDS), reason="the export's packages are installed here"
)
def test_exporting_without_its_packages_names_them_and_the_script(tmp_path: Path) -> None:
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    with pytest.raises(MissingExtraError, match=r"\.ci/vllm-env"):
        export_hf(gguf, tmp_path / "m-hf")
    assert not (tmp_path / "m-hf").exists()


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vllm is installed here")
def test_the_vllm_backend_without_vllm_is_a_config_error_before_any_export(settings: Settings) -> None:
    with pytest.raises(ConfigError, match="needs the vllm package"):
        create_backend(settings.model_copy(update={"llm_backend": "vllm"}))
