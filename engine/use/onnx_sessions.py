"""The runtimes an exported run is computed with: ONNX Runtime and OpenVINO sessions on the
CPU, both answering ONNX Runtime's `run(None, {"pixel_values": x})` call. Each runtime is an
optional package, imported here only, with a plain error naming what to install.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

from engine.errors import UserError
from engine.i18n import _


def require_onnxruntime():
    """The onnxruntime module, or a plain error naming what to install."""
    try:
        import onnxruntime
    except ImportError:
        raise UserError(_("The ONNX backends need ONNX Runtime: pip install onnxruntime (or "
                          "use --backend torch).")) from None
    return onnxruntime


def ort_session(path: str | os.PathLike, threads: int = 0):
    """An ONNX Runtime CPU session on `path`, all graph optimisations on; `threads` 0: as
    many as torch uses (the app's thread setting)."""
    ort = require_onnxruntime()
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.log_severity_level = 3  # errors only: its warnings are for its developers
    # no busy-waiting between runs: the threads would take the cores from the GUI and decoding
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class _OpenVinoSession:
    """OpenVINO's compiled model behind ONNX Runtime's `run(None, feeds)` call. A batch is
    split across the compiled model's streams (one infer request each, run at once), so a
    folder's batch of 32 keeps every stream busy; a single image takes one stream."""

    def __init__(self, compiled):
        self.compiled = compiled
        count = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS") or 1)
        self.requests = [compiled.create_infer_request() for _ in range(max(1, count))]

    def run(self, _outputs, feeds: dict):
        import numpy as np

        (name, batch), = feeds.items()
        parts = np.array_split(batch, min(len(self.requests), len(batch)) or 1)
        for request, part in zip(self.requests, parts):
            request.start_async({name: np.ascontiguousarray(part)})
        outputs = []
        for request, _part in zip(self.requests, parts):
            request.wait()
            outputs.append(request.get_output_tensor(0).data.copy())
        return [np.concatenate(outputs)]


def require_openvino():
    """The openvino module, or a plain error naming what to install."""
    from engine.use import vendor_telemetry

    vendor_telemetry.decline()
    try:
        import openvino
    except ImportError:
        raise UserError(_("The openvino backend needs OpenVINO: pip install openvino (or use "
                          "--backend onnx).")) from None
    return openvino


def openvino_session(path: str | os.PathLike, threads: int = 0, cache_dir: str = "",
                     hint: str = "THROUGHPUT"):
    """OpenVINO's CPU plugin on the same ONNX file, at its default precision for this CPU
    (bf16 where the CPU computes bf16 natively, else fp32), tuned for throughput (a stream
    per core pair or core: measured on the 2-core Xeon, bench "backends", the THROUGHPUT
    hint with the batch split across its streams gave 1.3x the LATENCY hint's folder rate);
    `cache_dir` keeps its compiled blob so a reopen skips compiling."""
    from engine.use import signal_stack

    openvino = require_openvino()
    config = {"PERFORMANCE_HINT": hint,
              "INFERENCE_NUM_THREADS": threads or torch.get_num_threads()}
    if cache_dir:
        config["CACHE_DIR"] = str(cache_dir)
    with signal_stack.kept():  # the CPU plugin's sigaltstack would outlive the plugin
        return _OpenVinoSession(openvino.Core().compile_model(str(path), "CPU", config))


def backend_session(backend: str, path: str | os.PathLike, threads: int = 0):
    if backend.startswith("openvino"):  # openvino, openvino-int8 (an OpenVINO IR file)
        return openvino_session(path, threads, cache_dir=str(Path(path).parent / "openvino"))
    return ort_session(path, threads)
