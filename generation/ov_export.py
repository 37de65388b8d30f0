"""A packaged GGUF as an OpenVINO model folder with 8-bit weights, for the ``openvino`` backend.

Made once, offline, into ``<model cache>/<name>-ov-int8/``: OpenVINO GenAI's GGUF reader builds the graph and its
tokenizers; each weight's GGUF block decompression (4- and 6-bit, groups of 32 and 16, asymmetric) is folded into
one plain tensor, and NNCF compresses it again as 8-bit per output channel. Measured on this project's 2-core
machine (30 CMRC trial questions, answers not verified): straight from the GGUF blocks, p50 generation 10.5 s;
8-bit, 8.4 s with as many answers holding the gold span (17 of 30 against 15) and no model declines (1);
4-bit symmetric in groups of 128 was fastest (6.3 s) but declined 8 and held the gold span in 12 — quality the
service does not trade. A manifest holds each file's SHA-256, checked on every load; a folder that differs is
made again. About 80 s for the 1.5B model on 2 cores.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from ragqa.errors import ModelFileError
from ragqa.generation.export_cache import MANIFEST, building, exported_folder

log = logging.getLogger(__name__)

__all__ = ["LAYOUT", "MANIFEST", "MODEL_XML", "SUFFIX", "export_openvino", "ov_model_dir"]

LAYOUT = "int8-asym-per-channel"  # recorded in the manifest: a different layout means a different export
MODEL_XML = "openvino_model.xml"
SUFFIX = "ov-int8"  # the folder in the model cache: <name>-ov-int8


def ov_model_dir(model: str, models_dir: Path) -> Path:
    """``model`` itself when it is an OpenVINO model folder; else the packaged name or GGUF file, exported once."""
    return exported_folder(
        model,
        models_dir,
        suffix=SUFFIX,
        marker=MODEL_XML,
        kind="an OpenVINO",
        export=export_openvino,
        layout=LAYOUT,
    )


def export_openvino(gguf: Path, out: Path) -> None:
    """Write the 8-bit OpenVINO folder for ``gguf`` beside ``out``, then rename it into place."""
    log.info("exporting %s for OpenVINO (once; about 80 s on 2 cores for 1.5B parameters)", gguf.name)
    try:
        with building(gguf, out, LAYOUT) as work:
            (work / "model.gguf").symlink_to(gguf.resolve())
            _read_gguf(work)
            (work / "model.gguf").unlink()
            _recompress(work)
    except (RuntimeError, ValueError) as exc:
        raise ModelFileError(f"could not export {gguf.name} for OpenVINO: {exc}") from exc


def _read_gguf(folder: Path) -> None:
    """OpenVINO GenAI's GGUF reader saves the graph and the tokenizers next to the file it reads."""
    import openvino_genai

    openvino_genai.LLMPipeline(str(folder / "model.gguf"), "CPU", enable_save_ov_model=True)
    if not (folder / MODEL_XML).is_file():
        raise ModelFileError(f"OpenVINO's GGUF reader wrote no {MODEL_XML}")


def _recompress(folder: Path) -> None:
    import nncf
    import openvino as ov

    core = ov.Core()
    model = core.read_model(folder / MODEL_XML)
    folded = _fold_weights(core, model)
    log.info("folded %d GGUF weights; compressing them to 8 bits", folded)
    nncf.set_log_level(logging.WARNING)  # its bit-width table is noise to a user; our log says what happens
    model = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_ASYM)
    for path in (folder / MODEL_XML, (folder / MODEL_XML).with_suffix(".bin")):
        path.unlink()
    ov.save_model(model, folder / MODEL_XML, compress_to_fp16=True)


def _fold_weights(core: Any, model: Any) -> int:
    """Replace each MatMul/Gather weight computed from constants by one float16 constant; return how many."""
    import numpy as np
    import openvino.opset13 as ops

    folded: dict[Any, Any] = {}  # one constant per weight, however many ops read it (a tied embedding)
    for node in list(model.get_ordered_ops()):
        kind = node.get_type_name()
        if kind not in ("MatMul", "Gather"):
            continue
        port = node.input(1 if kind == "MatMul" else 0)
        source = port.get_source_output()
        key = (source.get_node().get_friendly_name(), source.get_index())
        if key not in folded:
            if source.get_node().get_type_name() == "Constant" or not _from_constants(source.get_node()):
                continue
            weights = np.asarray(_evaluate(core, source), dtype=np.float32).astype(np.float16)
            folded[key] = ops.convert(ops.constant(weights), source.get_element_type())
        port.replace_source_output(folded[key].output(0))
    model.validate_nodes_and_infer_types()
    return len(folded)


def _evaluate(core: Any, output: Any) -> Any:
    """The value of a constant subgraph: the reader's block decompression (convert, subtract the zero point,
    multiply by the scale, reshape) in NumPy; anything else by OpenVINO itself."""
    return _value(core, output)[0]


def _value(core: Any, output: Any) -> tuple[Any, bool]:
    """``_evaluate``'s value, and whether that array is this call's own (then the arithmetic above it is done in
    place: the same float32 results without a new 1.5-billion-value array per step)."""
    import numpy as np

    node = output.get_node()
    kind = node.get_type_name()
    if kind == "Constant":
        return _constant(node)
    if kind in ("Convert", "Subtract", "Multiply", "Reshape"):
        first, owned = _value(core, node.input(0).get_source_output())
        if kind == "Convert":
            return (first, owned) if first.dtype == np.float32 else (first.astype(np.float32), True)
        second = _evaluate(core, node.input(1).get_source_output())
        if kind == "Reshape":
            return first.reshape([int(d) for d in second]), owned
        op = np.subtract if kind == "Subtract" else np.multiply
        if (
            owned
            and first.dtype == np.float32
            and np.broadcast_shapes(first.shape, second.shape) == first.shape
        ):
            return op(first, second, out=first), True
        return op(first, second), True
    import openvino.opset13 as ops
    from openvino import Model

    compiled = core.compile_model(
        Model([ops.result(output)], [], "weight"), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
    )
    return compiled({})[0], False


# a byte's two 4-bit values, the low nibble first
_NIBBLES = [(byte & 0x0F, byte >> 4) for byte in range(256)]


def _constant(node: Any) -> tuple[Any, bool]:
    """A constant's values (and whether the array is a fresh copy): 4-bit ones unpacked into float32, two per
    byte, the first in the low nibble — exact, as their Convert to float32 would give."""
    import numpy as np

    kind = node.get_element_type().get_type_name()
    shape = [int(d) for d in node.get_shape()]
    data = np.asarray(node.get_data())
    if kind not in ("u4", "i4"):
        return data.reshape(shape), False
    table = np.array(_NIBBLES, dtype=np.float32)
    if kind == "i4":
        table -= 16 * (table >= 8)
    values = table[data.view(np.uint8).reshape(-1)].reshape(-1)
    return values[: int(np.prod(shape))].reshape(shape), True


def _from_constants(node: Any) -> bool:
    if node.get_type_name() == "Constant":
        return True
    if node.get_type_name() == "Parameter" or not node.inputs():
        return False
    return all(_from_constants(i.get_source_output().get_node()) for i in node.inputs())
