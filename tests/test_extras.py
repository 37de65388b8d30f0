"""Optional extras: without them the default path works, and the feature that needs one says which to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ragqa.errors import MissingExtraError
from ragqa.extras import require


def test_require_names_the_extra() -> None:
    with pytest.raises(MissingExtraError, match=r"pip install 'ragqa\[milvus\]'"):
        require("ragqa_no_such_module", "milvus", "store=milvus")
    assert require("json", "eval", "json").dumps([]) == "[]"


def _without(tmp_path: Path, *modules: str) -> dict[str, str]:
    """An environment in which importing ``modules`` fails, as if their extra were not installed."""
    shadow = tmp_path / "shadow"
    for module in modules:
        (shadow / module).mkdir(parents=True)
        (shadow / module / "__init__.py").write_text(f"raise ImportError('{module} is not installed')\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow), os.environ.get("PYTHONPATH", "")])}


def _ragqa(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ragqa.cli", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_without_the_milvus_extra_faiss_works_and_milvus_says_what_to_install(
    tmp_path: Path, docs_dir: Path
) -> None:
    env = _without(tmp_path, "pymilvus", "milvus_lite")
    ok = _ragqa("ingest", str(docs_dir / "overview.md"), "--data-dir", str(tmp_path / "faiss"), env=env)
    assert ok.returncode == 0, ok.stderr
    env["RAGQA_STORE"] = "milvus"
    failed = _ragqa("ingest", str(docs_dir / "overview.md"), "--data-dir", str(tmp_path / "milvus"), env=env)
    assert failed.returncode == 2, failed.stderr
    assert "pip install 'ragqa[milvus]'" in failed.stderr and "Traceback" not in failed.stderr
