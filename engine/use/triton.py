"""The model repository layout NVIDIA Triton Inference Server reads, from an ONNX export:

    model_repository/
      <name>/
        config.pbtxt     inputs, outputs, dims, max_batch_size, dynamic batching, labels
        labels.txt       one class name per line, in output order
        1/model.onnx     version 1: pixel_values [B, 3, S, S] -> probabilities [B, classes]
      README.txt         how to start Triton on it and what a request must hold

Triton runs ONNX Runtime on the file; its dynamic batcher gathers concurrent requests as
`python -m engine serve` does. The model takes normalised pixels (resize, crop, mean/std as
preprocessor_config.json says): the README gives the numbers.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

from engine.errors import UserError
from engine.i18n import _

MAX_BATCH_SIZE = 32
QUEUE_DELAY_US = 5000  # how long Triton waits to fill a batch (as the server's 5 ms)

CONFIG = """\
name: "{name}"
backend: "onnxruntime"
max_batch_size: {max_batch}
input [
  {{
    name: "pixel_values"
    data_type: TYPE_FP32
    dims: [ 3, {size}, {size} ]
  }}
]
output [
  {{
    name: "probabilities"
    data_type: TYPE_FP32
    dims: [ {classes} ]
    label_filename: "labels.txt"
  }}
]
dynamic_batching {{
  max_queue_delay_microseconds: {delay}
}}
"""

README = """\
Triton Inference Server model repository for LoRA Studio run '{run}' ({classes} classes).

Start it (NVIDIA's container; add --gpus all on a GPU machine):
  docker run --rm -p 8000:8000 -p 8001:8001 -p 8002:8002 \\
    -v "$PWD/model_repository:/models" nvcr.io/nvidia/tritonserver:<yy.mm>-py3 \\
    tritonserver --model-repository=/models

Input "pixel_values": FP32 [batch, 3, {size}, {size}], RGB, prepared as
preprocessor_config.json in the export folder says: resize, centre crop to {size} x {size},
divide by 255, subtract mean {mean}, divide by std {std}.
Output "probabilities": FP32 [batch, {classes}], calibrated; labels.txt names them in order
(ask Triton for classification output to get labels with the scores).

Python client (pip install tritonclient[http] numpy pillow):
  import numpy as np, tritonclient.http as http
  client = http.InferenceServerClient("localhost:8000")
  x = http.InferInput("pixel_values", pixels.shape, "FP32"); x.set_data_from_numpy(pixels)
  out = client.infer("{name}", [x], outputs=[http.InferRequestedOutput("probabilities",
                                                                     class_count=3)])
  print(out.as_numpy("probabilities"))
"""


def model_name(run_name: str) -> str:
    """A Triton model name: letters, digits, '-' and '_' only."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", run_name).strip("_") or "lora_studio"


def config_text(name: str, classes: int, size: int, max_batch: int = MAX_BATCH_SIZE) -> str:
    return CONFIG.format(name=name, classes=classes, size=size, max_batch=max_batch,
                         delay=QUEUE_DELAY_US)


def _read(folder: Path, file: str) -> dict:
    try:
        return json.loads((folder / file).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(_("{folder} is not a complete ONNX export ({file}: {error}).").format(
            folder=folder, file=file, error=exc)) from None


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # same bytes, no second copy on disk
    except OSError:
        shutil.copy2(source, target)


def write_triton_repository(export_folder: str | os.PathLike,
                            max_batch: int = MAX_BATCH_SIZE) -> Path:
    """export_folder/model_repository from an export made with model.onnx; returns it."""
    folder = Path(export_folder)
    onnx_file = folder / "model.onnx"
    if not onnx_file.is_file():
        raise UserError(_("{folder} has no model.onnx: export with --onnx first.").format(
            folder=folder))
    labels = _read(folder, "labels.json")
    names = [labels[str(i)] for i in range(len(labels))]
    processor = _read(folder, "preprocessor_config.json")
    size = int(processor["crop_size"]["height"])
    run = str(_read(folder, "lora_studio_export.json").get("run") or folder.name)
    name = model_name(run)
    repository = folder / "model_repository"
    version = repository / name / "1"
    version.mkdir(parents=True)
    _link_or_copy(onnx_file, version / "model.onnx")
    (repository / name / "config.pbtxt").write_text(config_text(name, len(names), size,
                                                                max_batch), encoding="utf-8")
    (repository / name / "labels.txt").write_text("".join(f"{n}\n" for n in names),
                                                  encoding="utf-8")
    (repository / "README.txt").write_text(README.format(
        run=run, name=name, classes=len(names), size=size,
        mean=[round(v, 4) for v in processor["image_mean"]],
        std=[round(v, 4) for v in processor["image_std"]]), encoding="utf-8")
    return repository


__all__ = ["MAX_BATCH_SIZE", "config_text", "model_name", "write_triton_repository"]
