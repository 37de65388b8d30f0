"""A verifier model shipped as OpenVINO IR beside a manifest holding its weights' SHA-256: read the manifest and
compile the IR only when the weights match, with a clear error naming the command that rebuilds them."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ragqa.errors import ConfigError
from ragqa.hashing import file_sha256
from ragqa.retrieval.ov_export import compile_cpu

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


def read_manifest(folder: Path, what: str) -> dict[str, Any]:
    try:
        raw = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not isinstance(raw.get("sha256"), str):
            raise ValueError("no sha256")
        return raw
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the {what} model in {folder} is missing or unreadable ({exc})") from exc


def compile_checked(folder: Path, sha256: str, what: str, rebuild: str, threads: int = 0) -> Any:
    """``folder/model.xml`` compiled for the CPU, after ``folder/model.bin`` matched ``sha256``."""
    weights = folder / "model.bin"
    if not weights.is_file() or file_sha256(weights) != sha256:
        raise ConfigError(
            f"the {what} weights {weights} are missing or do not match their SHA-256 "
            f"({sha256[:12]}…): restore them from git or rebuild with `{rebuild}`"
        )
    model = compile_cpu(folder / "model.xml", threads)
    log.info("loaded the %s from %s", what, folder)
    return model
