"""`python -m engine export RUN --output DIR --triton`: the model repository layout Triton
Inference Server reads. Triton itself cannot be installed here, so the written config is
checked against the ONNX file it describes, and the file is run in ONNX Runtime (Triton's
onnxruntime backend) with a batch, as Triton would."""
from __future__ import annotations

import re

import numpy as np
import pytest

from run_factory import run_cli

pytestmark = pytest.mark.usefixtures("isolated_home")


def _dims(value_info) -> list:
    return [d.dim_value or d.dim_param for d in value_info.type.tensor_type.shape.dim]


def test_export_writes_a_triton_model_repository(run, predictor, tmp_path, capsys):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    out = tmp_path / "exported"
    assert run_cli(["export", str(run), "--output", str(out), "--triton"]) == 0
    assert "model_repository" in capsys.readouterr().out
    name = "run"  # the run folder's name, as a Triton model name
    model = out / "model_repository" / name
    assert sorted(p.name for p in model.iterdir()) == ["1", "config.pbtxt", "labels.txt"]
    assert (out / "model_repository" / "README.txt").is_file()
    assert (model / "labels.txt").read_text().splitlines() == predictor.class_names

    config = (model / "config.pbtxt").read_text()
    size, classes = predictor.info.image_size, len(predictor.class_names)
    assert f'name: "{name}"' in config and 'backend: "onnxruntime"' in config
    assert re.search(r"max_batch_size: (\d+)", config).group(1) == "32"
    assert re.search(r'name: "pixel_values"\s+data_type: TYPE_FP32\s+dims: \[ 3, '
                     rf'{size}, {size} \]', config)
    assert re.search(r'name: "probabilities"\s+data_type: TYPE_FP32\s+dims: \[ '
                     rf'{classes} \]\s+label_filename: "labels.txt"', config)
    assert re.search(r"dynamic_batching \{\s+max_queue_delay_microseconds: \d+\s+\}", config)

    graph = onnx.load(str(model / "1" / "model.onnx")).graph
    # Triton's max_batch_size > 0 means: the first dimension is the batch, dims the rest
    assert [i.name for i in graph.input] == ["pixel_values"]
    assert _dims(graph.input[0])[1:] == [3, size, size]
    assert isinstance(_dims(graph.input[0])[0], str)  # dynamic batch axis
    assert [o.name for o in graph.output] == ["probabilities"]
    assert _dims(graph.output[0])[1:] == [classes]

    session = ort.InferenceSession(str(model / "1" / "model.onnx"))
    batch = np.random.default_rng(0).normal(size=(4, 3, size, size)).astype(np.float32)
    probs = session.run(["probabilities"], {"pixel_values": batch})[0]
    assert probs.shape == (4, classes) and np.allclose(probs.sum(1), 1, atol=1e-5)
