"""Which engine computes a run's predictions: torch (the Predictor) or ONNX Runtime.

`open_predictor(run_dir, backend)` is the one door: the predict and evaluate commands, the
server and the Prediction tab open a run through it and get an object with the Predictor's
interface (predict, probabilities, decode, class_names, warnings, ...) and the same
Prediction objects, whatever computes behind it.

- "torch": the Predictor (bf16 autocast where the CPU computes bf16 natively, else fp32).
- "onnx": ONNX Runtime on the run's exported file, fp32 (agrees with torch fp32 to ~1e-6).
- "onnx-int8": the same file with its matrix products quantized to int8 (dynamic
  quantization): fastest on most CPUs; it may change a close call, where "onnx" does not.
- "openvino": OpenVINO on the same ONNX file, in bf16 where the CPU computes bf16 natively
  (AVX-512 BF16 / AMX), else fp32. Needs the openvino package.
- "auto": chosen by the CPU's flags (see choose_backend), measured by the bench's
  "backends" section.
"""
from __future__ import annotations

import os

from engine.errors import UserError
from engine.i18n import _

BACKENDS = ("auto", "torch", "onnx", "onnx-int8", "openvino")
MIN_AGREEMENT = 0.99  # auto never keeps an int8 file that changes more top-1 answers


def check_backend(backend: str) -> str:
    """`backend` if it is one of BACKENDS, else a plain error naming the choices."""
    if backend not in BACKENDS:
        raise UserError(_("Unknown backend '{backend}': choose one of {choices}.").format(
            backend=backend, choices=", ".join(BACKENDS)))
    return backend


def installed(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken install, or a module blocked in sys.modules
        return False


def choose_backend(device: str = "auto") -> str:
    """What "auto" means here: the fastest backend that agrees with the run.

    Measured (README; the bench's "backends" section), ViT-B/32 shape, 2 cores: on a CPU
    with AVX-512 BF16 / AMX the torch Predictor already computes in bf16, ONNX Runtime
    int8 only matches its batch throughput, OpenVINO bf16 is about 1.6x it; on a CPU
    without native bf16, ONNX Runtime int8 is about 3x torch fp32. A GPU keeps torch, and
    so does a missing onnxruntime (or openvino on a bf16 CPU).
    """
    from engine.hardware import cpu_has_fast_bf16, resolve_device_type

    if resolve_device_type(device) != "cpu" or not installed("onnxruntime"):
        return "torch"
    if cpu_has_fast_bf16():
        return "openvino" if installed("openvino") else "torch"
    return "onnx-int8"


def open_predictor(run_dir: str | os.PathLike, backend: str = "torch", *, log=None,
                   **predictor_kwargs):
    """A predictor for `run_dir` computing with `backend` (see BACKENDS); the keyword
    arguments are the Predictor's (device, precision, low_confidence, not_sure_below, ...).
    `log` receives a line when an ONNX file is built (first use of a run, seconds)."""
    check_backend(backend)
    chosen = choose_backend(predictor_kwargs.get("device", "auto")) if backend == "auto" \
        else backend
    if chosen == "torch":
        from engine.use.predict import Predictor

        return Predictor(run_dir, **predictor_kwargs)
    from engine.use.onnx_predictor import OnnxPredictor

    predictor = OnnxPredictor(run_dir, chosen, log=log, **predictor_kwargs)
    agreement = predictor.agreement.get("top1_agreement")
    if backend == "auto" and agreement is not None and agreement < MIN_AGREEMENT:
        # this run has close calls the faster file answers differently: on a bf16 CPU the
        # Predictor as it always was, elsewhere fp32 ONNX Runtime (torch fp32's answers)
        from engine.hardware import cpu_has_fast_bf16

        if cpu_has_fast_bf16():
            from engine.use.predict import Predictor

            return Predictor(run_dir, **predictor_kwargs)
        return OnnxPredictor(run_dir, "onnx", log=log, **predictor_kwargs)
    return predictor
