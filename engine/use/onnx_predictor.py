"""OnnxPredictor: the Predictor's interface, computed by ONNX Runtime on the CPU.

Pictures are decoded, framed and normalised by exactly the Predictor's code (it inherits
decode, predict and the result objects); only the model runs elsewhere: the run's ONNX file
(fp32, or int8 by dynamic quantization) from engine.use.onnx_cache. The file includes the
softmax and the calibration temperature, as the Predictor applies them, so a Prediction
from here means what one from the Predictor means.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from engine.errors import UserError
from engine.use.onnx_sessions import backend_session, require_openvino
from engine.use.predict import LOW_CONFIDENCE, Predictor


class OnnxPredictor(Predictor):
    """A trained run computed by ONNX Runtime; the first open of a run builds its file
    (seconds), later opens read it from the cache."""

    def __init__(self, run_dir: str | os.PathLike, backend: str = "onnx", device: str = "auto",
                 merge: bool = True, precision: str = "auto",
                 low_confidence: float = LOW_CONFIDENCE, not_sure_below: float = 0.0, *,
                 classifier=None, log=None):
        """`device`, `merge`, `precision` and `classifier` are the Predictor's and have no
        effect here (ONNX Runtime computes on the CPU in the file's own format)."""
        from engine.data.augment import Augmenter
        from engine.hardware import resolve_precision
        from engine.model.classifier import BaseModelInfo
        from engine.model.safety import check_run_folder
        from engine.use.onnx_cache import open_entry
        from engine.use.onnx_sessions import require_onnxruntime

        require_onnxruntime()  # before any slow work: a missing package is said at once
        if backend.startswith("openvino"):
            require_openvino()
        if backend == "openvino-int8":
            from engine.use.openvino_int8 import require_nncf

            require_nncf()
        self.backend = backend
        self.run_dir = Path(run_dir)
        self.run = check_run_folder(self.run_dir)  # the same refusals a torch load makes
        self.device = torch.device("cpu")
        self.precision = resolve_precision("fp32", "cpu")
        self.reused = False
        self.entry = open_entry(self.run_dir, self.run, backend, log)
        self.info = BaseModelInfo.from_dict(self.run["base_model"])
        self.class_names = [str(n) for n in self.run["class_names"]]
        self.warnings = list(self.entry.facts.get("warnings", []))
        self.framing = self.info.framing
        from engine.use.predict import prediction_resolution

        self.resolution = prediction_resolution(self.info)
        self.augmenter = Augmenter.for_model(self.info, augment=False)
        self.low_confidence = low_confidence
        self.not_sure_below = not_sure_below
        self.model, self.attention = None, "onnxruntime"
        try:
            self.session = backend_session(backend, self.entry.path(backend))
        except UserError:
            raise
        except Exception:  # a cached file cut short or damaged: built again, once
            from engine.use.onnx_cache import discard

            discard(self.entry)
            self.entry = open_entry(self.run_dir, self.run, backend, log)
            self.session = backend_session(backend, self.entry.path(backend))

    @property
    def temperature(self) -> float:
        return float(self.entry.facts.get("temperature", 1.0))

    @property
    def agreement(self) -> dict:
        """Top-1 agreement and max |Δp| against torch fp32, measured when the file was built."""
        return dict(self.entry.facts.get("agreement", {}).get(self.backend, {}))

    @torch.no_grad()
    def view_probabilities(self, images: torch.Tensor) -> torch.Tensor:
        """uint8 [B, 3, R, R] (decode() format) -> float32 probabilities [B, classes]; the
        Predictor's probabilities() averages them over test-time augmentation's views."""
        pixels = self.augmenter.eval_batch(images).float().contiguous().numpy()
        out = self.session.run(None, {"pixel_values": pixels})[0]
        return torch.from_numpy(np.ascontiguousarray(out, dtype=np.float32))
