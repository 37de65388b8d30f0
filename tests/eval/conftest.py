from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def halueval_small(shared_data: Path, tmp_path: Path) -> Path:
    """The first 30 HaluEval QA records, copied to a temporary file for the run."""
    lines = (shared_data / "halueval" / "qa_dev.jsonl").read_text(encoding="utf-8").splitlines()[:30]
    path = tmp_path / "halueval-30.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
