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
    """OpenVINO's compiled model behind ONNX Runtime's `run(None, feeds)` call."""

    def __init__(self, compiled):
        self.compiled = compiled
        self.request = compiled.create_infer_request()

    def run(self, _outputs, feeds: dict):
        return [self.request.infer(feeds)[self.compiled.output(0)]]


def require_openvino():
    """The openvino module, or a plain error naming what to install."""
    try:
        import openvino
    except ImportError:
        raise UserError(_("The openvino backend needs OpenVINO: pip install openvino (or use "
                          "--backend onnx).")) from None
    return openvino


def openvino_session(path: str | os.PathLike, threads: int = 0, cache_dir: str = ""):
    """OpenVINO's CPU plugin on the same ONNX file, at its default precision for this CPU
    (bf16 where the CPU computes bf16 natively, else fp32), tuned for latency; `cache_dir`
    keeps its compiled blob so a reopen skips compiling."""
    core = require_openvino().Core()
    config = {"PERFORMANCE_HINT": "LATENCY",
              "INFERENCE_NUM_THREADS": threads or torch.get_num_threads()}
    if cache_dir:
        config["CACHE_DIR"] = str(cache_dir)
    return _OpenVinoSession(core.compile_model(str(path), "CPU", config))


def backend_session(backend: str, path: str | os.PathLike, threads: int = 0):
    if backend == "openvino":
        return openvino_session(path, threads, cache_dir=str(Path(path).parent / "openvino"))
    return ort_session(path, threads)
