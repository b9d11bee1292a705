"""The "openvino-int8" backend's file: the run's ONNX model quantized to int8 by NNCF's
post-training quantization (weights and activations, calibrated on the run's own training
images), saved as OpenVINO IR (model-int8.xml + .bin) in the run's cache entry.

Why (measured, bench "backends", 2-core Intel Xeon with AMX, ViT-B/32 shape, folder at batch
32): OpenVINO computes this file with AMX-INT8 at about 1.3x its own bf16 speed, the only
option that reached 1.5x the torch Predictor there; ONNX Runtime's int8 files (dynamic, or
static QDQ from onnxruntime.quantization) were slower than OpenVINO bf16, and OpenVINO on
onnxruntime's QDQ file slower still. On a 2-core AMD EPYC Zen 4 (AVX-512 VNNI, no AMX) it is
1.9x the torch Predictor, ONNX Runtime's dynamic int8 1.4x. int8 can change a close call:
engine.use.backends uses it for "auto" only where it agrees with torch fp32 on >= 99 % of
the run's test images.
"""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from engine.errors import UserError
from engine.i18n import _

CALIBRATION_IMAGES = 128  # training images the activations' ranges are measured on


def require_nncf():
    from engine.use import vendor_telemetry

    vendor_telemetry.decline()  # NNCF makes its telemetry object when imported
    try:
        import nncf
    except ImportError:
        raise UserError(_("The openvino-int8 backend needs NNCF: pip install nncf (or use "
                          "--backend openvino).")) from None
    return nncf


def calibration_images(run_dir: Path, limit: int = CALIBRATION_IMAGES) -> list[str]:
    """Up to `limit` of the run's training images (else validation), spread over the split."""
    from engine.use.evaluate import _samples_from_split

    for split in ("train", "val"):
        try:
            _index, samples, _skipped = _samples_from_split(run_dir, split, None)
        except (UserError, OSError, ValueError):
            continue
        if samples:
            step = max(1, len(samples) // limit)
            return [s.path for s in samples[::step][:limit]]
    return []


def quantize_openvino_int8(onnx_path: Path, target: Path, reference) -> None:
    """`onnx_path` (fp32) -> `target` (.xml, with its .bin beside it), calibrated with the
    pixels `reference` (the run's torch Predictor) prepares from the run's training images."""
    from engine.data.cache import DecodeCache
    from engine.use.onnx_sessions import require_openvino

    nncf = require_nncf()
    ov = require_openvino()
    paths = calibration_images(reference.run_dir)
    cache = DecodeCache(reference.resolution, framing=reference.framing)
    batches = []
    for start in range(0, len(paths), 16):
        loaded = cache.load(paths[start:start + 16])
        if loaded.kept:
            batches.append(reference.augmenter.eval_batch(loaded.images).float().numpy())
    if not batches:
        raise UserError(_("The openvino-int8 backend is calibrated on the run's training "
                          "images, and none of them is where split.json says: use --backend "
                          "openvino."))
    _quiet_nncf()
    from engine.use import signal_stack

    model = ov.Core().read_model(str(onnx_path))
    # NNCF draws its progress bars on standard output, where `predict` writes its answers:
    # not while it quantizes. NNCF compiles with OpenVINO's CPU plugin, whose sigaltstack
    # must not outlive it (engine.use.signal_stack).
    with _progress_bars_off(), signal_stack.kept():
        quantized = nncf.quantize(model, nncf.Dataset(batches),
                                  model_type=nncf.ModelType.TRANSFORMER,
                                  subset_size=len(batches))  # items are batches of 16 images
    ov.save_model(quantized, str(target))


_bars_lock = threading.Lock()
_bars_users = 0  # quantizations under way, in any thread
_bars_quiet_before = False


@contextlib.contextmanager
def _progress_bars_off():
    """NNCF's progress bars (rich, on rich's shared console) draw nothing while any
    quantization is under way, whichever thread runs it and however the calls overlap.
    Standard output itself is left alone: what other threads print, and what `predict`
    writes, arrives as usual."""
    global _bars_users, _bars_quiet_before
    from rich import get_console

    console = get_console()
    with _bars_lock:
        if _bars_users == 0:
            _bars_quiet_before = console.quiet
        _bars_users += 1
        console.quiet = True
    try:
        yield
    finally:
        with _bars_lock:
            _bars_users -= 1
            if _bars_users == 0:
                console.quiet = _bars_quiet_before


def _quiet_nncf() -> None:
    """NNCF draws progress bars and logs its steps at INFO: not for a user of this app."""
    import logging

    logging.getLogger("nncf").setLevel(logging.WARNING)
    try:
        from nncf.common.logging.logger import set_log_level

        set_log_level(logging.WARNING)
    except ImportError:
        pass


__all__ = ["CALIBRATION_IMAGES", "calibration_images", "quantize_openvino_int8",
           "require_nncf"]
