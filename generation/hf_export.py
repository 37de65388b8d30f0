"""A packaged GGUF as a Hugging Face model folder, for vLLM: its CPU engine reads safetensors, not GGUF.

The GGUF is dequantised once (transformers' GGUF reader) into ``<model cache>/<name>-hf`` in bfloat16, with a
manifest of each file's SHA-256; later runs check the files against it and export again if one differs. Needs
``transformers``, ``gguf`` and ``accelerate`` — what the vLLM environment (``.ci/vllm-env``) installs.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from ragqa.errors import MissingExtraError, ModelFileError
from ragqa.generation.models import resolve_model_file
from ragqa.hashing import file_sha256

log = logging.getLogger(__name__)

MANIFEST = "ragqa-export.json"
NEEDS = ("transformers", "gguf", "accelerate")


def hf_model_dir(model: str, models_dir: Path) -> Path:
    """``model`` itself when it is a model folder; else the packaged name or GGUF file, exported once."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelFileError(f"{path} is not a Hugging Face model folder (no config.json)")
        return path
    gguf = resolve_model_file(model, models_dir)
    out = models_dir / f"{gguf.stem}-hf"
    if _intact(out, gguf):
        return out
    if out.exists():
        log.warning("%s differs from its manifest; exporting it again", out)
    export_hf(gguf, out)
    return out


def export_hf(gguf: Path, out: Path) -> None:
    """Dequantise ``gguf`` into a safetensors folder at ``out`` (written beside it, then renamed into place)."""
    missing = [name for name in NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(
            f"exporting {gguf.name} for vLLM needs {', '.join(missing)}: run vLLM from its own environment "
            "(.ci/vllm-env creates it), or pass a Hugging Face model folder"
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    started = time.monotonic()
    log.info("exporting %s as a Hugging Face folder for vLLM (once; about a minute per GB)", gguf.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype="bfloat16")
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config  # the weights are plain tensors now; the GGUF marker blocks saving
        plain = AutoModelForCausalLM.from_config(config, dtype="bfloat16")
        missing_keys, unexpected = plain.load_state_dict(loaded.state_dict(), strict=False)
        if missing_keys or unexpected:
            raise ModelFileError(f"{gguf.name}: tensors did not map ({missing_keys[:3]}, {unexpected[:3]})")
        plain.tie_weights()
        plain.save_pretrained(work)
        tokenizer.save_pretrained(work)
        files = {p.name: file_sha256(p) for p in sorted(work.iterdir()) if p.is_file()}
        manifest = {"source": gguf.name, "source_size": gguf.stat().st_size, "files": files}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2))
        work.chmod(0o755)  # mkdtemp makes it private; the model cache is shared like the GGUF beside it
        if out.exists():
            shutil.rmtree(out)
        work.rename(out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("exported %s to %s in %.0f s", gguf.name, out, time.monotonic() - started)


def _intact(out: Path, gguf: Path) -> bool:
    try:
        manifest = json.loads((out / MANIFEST).read_text())
        if manifest["source"] != gguf.name or manifest["source_size"] != gguf.stat().st_size:
            return False
        return all(file_sha256(out / name) == digest for name, digest in manifest["files"].items())
    except (OSError, ValueError, KeyError, TypeError):
        return False
