"""A packaged GGUF as a Hugging Face model folder, for vLLM: its CPU engine reads safetensors, not GGUF.

The GGUF is dequantised once (transformers' GGUF reader) into ``<model cache>/<name>-hf`` in bfloat16, with a
manifest of each file's SHA-256; later runs check the files against it and export again if one differs. Needs
``transformers``, ``gguf`` and ``accelerate`` — what the vLLM environment (``.ci/vllm-env``) installs.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from ragqa.errors import MissingExtraError, ModelFileError
from ragqa.generation.export_cache import MANIFEST, building, exported_folder

log = logging.getLogger(__name__)

__all__ = ["MANIFEST", "NEEDS", "export_hf", "hf_model_dir"]
NEEDS = ("transformers", "gguf", "accelerate")


def hf_model_dir(model: str, models_dir: Path) -> Path:
    """``model`` itself when it is a model folder; else the packaged name or GGUF file, exported once."""
    return exported_folder(
        model, models_dir, suffix="hf", marker="config.json", kind="a Hugging Face", export=export_hf
    )


def export_hf(gguf: Path, out: Path) -> None:
    """Dequantise ``gguf`` into a safetensors folder at ``out`` (written beside it, then renamed into place)."""
    missing = [name for name in NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        raise MissingExtraError(
            f"exporting {gguf.name} for vLLM needs {', '.join(missing)}: run vLLM from its own environment "
            "(.ci/vllm-env creates it), or pass a Hugging Face model folder"
        )
    from transformers import AutoModelForCausalLM, AutoTokenizer

    log.info("exporting %s as a Hugging Face folder for vLLM (once; about a minute per GB)", gguf.name)
    with building(gguf, out) as work:
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
