"""OpenVINO IR: trace a torch module and publish it atomically (a folder renamed into place), once per model cache
however many processes start together; compile it for the CPU."""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ragqa.filelock import exclusive

log = logging.getLogger(__name__)


def ir_made_once(ir_dir: Path, name: str, convert: Callable[[], None]) -> Path:
    """``ir_dir/model.xml``, made by ``convert()`` when it is not there yet; a process that finds another one
    converting it waits on the model cache's lock, then uses that one's IR."""
    xml = ir_dir / "model.xml"
    if not xml.is_file():
        with exclusive(ir_dir):
            if not xml.is_file():
                log.info("converting %s to OpenVINO IR in %s (once)", name, ir_dir)
                convert()
    return xml


def export_ir(module: Any, example: dict[str, Any], shapes: list[tuple], target: Path, *, fp16: bool) -> None:
    """``target/model.xml`` from ``module`` traced on ``example``; readers never see a half-written folder."""
    import openvino as ov
    import torch

    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        converted = ov.convert_model(module, example_input=example, input=shapes)
    tmp = target.with_name(target.name + f".tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    ov.save_model(converted, str(tmp / "model.xml"), compress_to_fp16=fp16)
    shutil.rmtree(target, ignore_errors=True)
    os.replace(tmp, target)


def compile_cpu(xml: Path, threads: int = 0) -> Any:
    """The IR compiled for one request at a time on the CPU; ``threads`` 0 leaves OpenVINO's default."""
    import openvino as ov

    config: dict[str, Any] = {"PERFORMANCE_HINT": "LATENCY"}
    if threads:
        config["INFERENCE_NUM_THREADS"] = threads
    return ov.Core().compile_model(str(xml), "CPU", config)
