"""OpenVINO IR: trace a torch module and publish it atomically (a folder renamed into place); compile it for
the CPU."""

from __future__ import annotations

import os
import shutil
import warnings
from pathlib import Path
from typing import Any


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
