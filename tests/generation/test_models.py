from __future__ import annotations

import os
from pathlib import Path

import pytest

from ragqa.errors import ModelFileError
from ragqa.generation.models import PACKAGED, PackagedModel, resolve_model_file


def test_packaged_model_is_joined_once_and_verified(tmp_path: Path) -> None:
    target = resolve_model_file("qwen2.5-coder-0.5b", tmp_path)
    assert target.stat().st_size == PACKAGED["qwen2.5-coder-0.5b"].size
    assert target.read_bytes()[:4] == b"GGUF"
    mtime = target.stat().st_mtime_ns
    assert resolve_model_file("qwen2.5-coder-0.5b", tmp_path) == target
    assert target.stat().st_mtime_ns == mtime  # not joined again

    with target.open("r+b") as fh:  # damage it: the next use notices and joins it again
        fh.seek(1000)
        fh.write(b"\x00" * 16)
    os.utime(target, ns=(mtime + 10**9, mtime + 10**9))
    assert resolve_model_file("qwen2.5-coder-0.5b", tmp_path) == target
    assert target.stat().st_mtime_ns != mtime + 10**9


def test_missing_package_and_bad_checksum_are_clear(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = PackagedModel("ghost", ("no_such_model_package",), "ghost-model==1", "0" * 64, 1, "")
    monkeypatch.setitem(PACKAGED, "ghost", fake)
    with pytest.raises(ModelFileError, match="pip install ghost-model==1"):
        resolve_model_file("ghost", tmp_path)
    wrong = PackagedModel("wrong", PACKAGED["qwen2.5-coder-0.5b"].packages[:1], "x", "0" * 64, 1, "")
    monkeypatch.setitem(PACKAGED, "wrong", wrong)
    with pytest.raises(ModelFileError, match="failed its checksum"):
        resolve_model_file("wrong", tmp_path)
    assert not list(tmp_path.glob("wrong.gguf*"))


def test_user_gguf_paths(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        resolve_model_file(str(tmp_path / "missing.gguf"), tmp_path)
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a GGUF"):
        resolve_model_file(str(bogus), tmp_path)
    with pytest.raises(ModelFileError, match="unknown model"):
        resolve_model_file("gpt-17", tmp_path)
