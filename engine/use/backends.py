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
- "openvino-int8": OpenVINO on an int8 file made by NNCF's post-training quantization,
  calibrated on the run's training images (engine.use.openvino_int8): fastest on a CPU
  with AMX. Needs openvino and nncf; it may change a close call.
- "auto": the fastest for this CPU that agrees with the run (auto_order, open_predictor's
  guard), measured by the bench's "backends" section.
"""
from __future__ import annotations

import os

from engine.errors import UserError
from engine.i18n import _

BACKENDS = ("auto", "torch", "onnx", "onnx-int8", "openvino", "openvino-int8")
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


def auto_order(device: str = "auto") -> list[str]:
    """What "auto" tries, fastest first; the first one that agrees with the run is used, the
    last is always usable (see open_predictor's guard).

    Measured (README; the bench's "backends" section), ViT-B/32 shape, folder at batch 32,
    2-core Intel Xeon with AMX, decoding included (overlapped): on a CPU with AVX-512 BF16 /
    AMX (a "bf16 CPU") OpenVINO on NNCF's int8 file is about 1.3x OpenVINO bf16, which is
    about 1.35x the torch Predictor (already bf16 there); ONNX Runtime's int8 files (dynamic,
    per-channel, static QDQ) only matched the torch Predictor. On a 2-core AMD EPYC Zen 4
    (AVX-512 BF16 and VNNI, no AMX) the same order holds: OpenVINO int8 1.9x the torch
    Predictor, ONNX Runtime int8 1.4x, OpenVINO bf16 1.2x. On a CPU without native
    bf16 (not available here: reasoned from the fp32 paths measured on this one) ONNX
    Runtime's dynamic int8 is about 3x torch fp32, OpenVINO f32 1.3-1.9x, ONNX Runtime
    fp32 1x. Each is kept only where it agrees with the run (guard: agrees), else the next
    in order. A GPU keeps torch, and so does a missing onnxruntime (or openvino on a bf16
    CPU).
    """
    from engine.hardware import cpu_has_fast_bf16, resolve_device_type

    if resolve_device_type(device) != "cpu" or not installed("onnxruntime"):
        return ["torch"]
    if cpu_has_fast_bf16():
        if not installed("openvino"):
            return ["torch"]
        return (["openvino-int8"] if installed("nncf") else []) + ["openvino", "torch"]
    return ["onnx-int8"] + (["openvino"] if installed("openvino") else []) + ["torch"]


def choose_backend(device: str = "auto") -> str:
    """What "auto" tries first here (auto_order); open_predictor may fall back from it."""
    return auto_order(device)[0]


def agrees(backend: str, agreement: dict) -> bool:
    """The guard: whether `backend`'s measured agreement with torch fp32 lets auto use it.
    An int8 file needs a measured top-1 agreement >= MIN_AGREEMENT (no test images to
    measure on: not used); bf16 / fp32 files are refused only when measured below it."""
    measured = agreement.get("top1_agreement")
    if measured is None:
        return "int8" not in backend
    return measured >= MIN_AGREEMENT


def open_predictor(run_dir: str | os.PathLike, backend: str = "torch", *, log=None,
                   tta: str = "off", **predictor_kwargs):
    """A predictor for `run_dir` computing with `backend` (see BACKENDS), predicting with
    test-time augmentation `tta` (engine.use.tta; its notes join the predictor's warnings);
    the keyword arguments are the Predictor's (device, precision, low_confidence, ...).
    `log` receives a line when an ONNX file is built (first use of a run, seconds)."""
    from engine.use.tta import check_tta
    from engine.use.tta_fit import use_tta

    check_backend(backend)
    check_tta(tta)
    predictor = _open(run_dir, backend, log, predictor_kwargs)
    predictor.warnings = list(predictor.warnings) + use_tta(predictor, tta)
    return predictor


def _open(run_dir, backend: str, log, predictor_kwargs: dict):
    order = auto_order(predictor_kwargs.get("device", "auto")) if backend == "auto" \
        else [backend]
    for n, chosen in enumerate(order):
        if chosen == "torch":
            from engine.use.predict import Predictor

            return Predictor(run_dir, **predictor_kwargs)
        from engine.use.onnx_predictor import OnnxPredictor

        last = n == len(order) - 1
        try:
            predictor = OnnxPredictor(run_dir, chosen, log=log, **predictor_kwargs)
        except UserError:
            if last:
                raise
            continue  # e.g. openvino-int8 without training images to calibrate on
        if last or agrees(chosen, predictor.agreement):
            return predictor
        # this run has close calls the faster file answers differently: the next in order
    raise AssertionError("auto_order always ends with a usable backend")


def agreement_line(predictor) -> str:
    """One line naming what computes and, for an exported file, how it agreed with the run
    in torch fp32 when it was built (run.json "backends"); "" for the torch Predictor."""
    measured = dict(getattr(predictor, "agreement", {}) or {})
    if predictor.backend == "torch" or not measured:
        return ""
    if not measured.get("images"):
        return _("Computed with {backend} (its agreement with the run could not be measured: "
                 "no test images).").format(backend=predictor.backend)
    return _("Computed with {backend}: top-1 agrees with torch fp32 on {share:.1%} of {n} test "
             "images, max |Δp| {dp:.3g}.").format(
        backend=predictor.backend, share=measured["top1_agreement"], n=measured["images"],
        dp=measured["max_abs_dp"])
