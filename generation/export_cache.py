"""Model folders made once from a packaged GGUF into the model cache (for vLLM, for OpenVINO), each with a
manifest of its files' SHA-256 that is checked on every load; a folder that differs is made again.

A folder is written beside its final place and renamed into it, so a crash never leaves half a model there."""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ragqa.errors import ModelFileError
from ragqa.filelock import exclusive
from ragqa.generation.models import resolve_model_file
from ragqa.hashing import file_sha256

log = logging.getLogger(__name__)

MANIFEST = "ragqa-export.json"


def exported_folder(
    model: str,
    models_dir: Path,
    *,
    suffix: str,
    marker: str,
    kind: str,
    export: Callable[[Path, Path], None],
    layout: str | None = None,
) -> Path:
    """``model`` itself when it is a folder holding ``marker`` (a ``kind`` model folder); else the packaged name
    or GGUF file, exported once by ``export(gguf, out)`` into ``<models_dir>/<name>-<suffix>``."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / marker).is_file():
            raise ModelFileError(f"{path} is not {kind} model folder (no {marker})")
        return path
    gguf = resolve_model_file(model, models_dir)
    out = models_dir / f"{gguf.stem}-{suffix}"
    if intact(out, gguf, layout):
        return out
    with exclusive(out):  # a second process starting at the same time waits, then finds the folder made
        if intact(out, gguf, layout):
            return out
        if out.exists():
            log.warning("%s differs from its manifest; exporting it again", out)
        export(gguf, out)
    return out


def intact(folder: Path, gguf: Path, layout: str | None = None) -> bool:
    """Whether ``folder`` was made from ``gguf`` (in ``layout``) and every file still has its recorded hash."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        if manifest["source"] != gguf.name or manifest["source_size"] != gguf.stat().st_size:
            return False
        if manifest.get("layout") != layout or not manifest["files"]:
            return False
        return all(file_sha256(folder / name) == digest for name, digest in manifest["files"].items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


@contextmanager
def building(gguf: Path, out: Path, layout: str | None = None) -> Iterator[Path]:
    """A private work folder beside ``out``; when the block ends without an error, its manifest is written and
    it becomes ``out``. On an error nothing is left behind."""
    started = time.monotonic()
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        yield work
        files = {p.name: file_sha256(p) for p in sorted(work.iterdir()) if p.is_file()}
        manifest = {"source": gguf.name, "source_size": gguf.stat().st_size, "layout": layout, "files": files}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        work.chmod(0o755)  # mkdtemp makes it private; the model cache is shared like the GGUF beside it
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("exported %s to %s in %.0f s", gguf.name, out, time.monotonic() - started)
