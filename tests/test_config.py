from __future__ import annotations

from pathlib import Path

import pytest

from ragqa.config import load_settings
from ragqa.errors import ConfigError


def test_defaults() -> None:
    s = load_settings()
    assert s.data_dir == Path(".ragqa") and s.store == "faiss" and s.rrf_k == 60 and s.fusion_depth == 100


def test_file_then_env_then_arguments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "ragqa.toml"
    cfg.write_text('[ragqa]\ntop_k = 7\nhnsw_m = 48\ncollection = "from-file"\n')
    monkeypatch.setenv("RAGQA_CONFIG", str(cfg))
    monkeypatch.setenv("RAGQA_HNSW_M", "24")
    s = load_settings(collection="from-flag")
    assert (s.top_k, s.hnsw_m, s.collection) == (7, 24, "from-flag")


def test_yaml_file_found_in_working_dir(tmp_path: Path) -> None:
    (tmp_path / "ragqa.yaml").write_text("chunk_tokens: 128\nchunk_overlap: 16\n")
    assert load_settings().chunk_tokens == 128


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("RAGQA_HNSW_M", "two", "hnsw_m"),
        ("RAGQA_STORE", "redis", "store"),
        ("RAGQA_CHUNK_OVERLAP", "500", "chunk_overlap"),
        ("RAGQA_COLLECTION", "../escape", "collection"),
    ],
)
def test_invalid_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, message: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_bad_config_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("top_k: [unclosed\n")
    monkeypatch.setenv("RAGQA_CONFIG", str(bad))
    with pytest.raises(ConfigError, match="not valid"):
        load_settings()
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("no_such_setting: 1\n")
    monkeypatch.setenv("RAGQA_CONFIG", str(unknown))
    with pytest.raises(ConfigError, match="no_such_setting"):
        load_settings()
    monkeypatch.setenv("RAGQA_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="not found"):
        load_settings()


def test_models_are_cached_once_per_machine_not_per_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RAGQA_MODELS_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    one, two = load_settings(data_dir=tmp_path / "a"), load_settings(data_dir=tmp_path / "b")
    assert one.model_cache == two.model_cache == tmp_path / "cache" / "ragqa" / "models"
    monkeypatch.setenv("RAGQA_MODELS_DIR", str(tmp_path / "mine"))
    assert load_settings(data_dir=tmp_path / "a").model_cache == tmp_path / "mine"
