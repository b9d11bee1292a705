"""`export --format`: a trained run as a folder for another runtime, checked in that runtime.

One folder per export, holding the model file(s), labels.json, preprocessing.json, a README
in the user's language and lora_studio_export.json (where it came from, how it compared):

- merged: transformers folder with the LoRA merged (engine.use.export)
- onnx / onnx-int8: the classifier as ONNX (engine.use.export.export_onnx), int8 by ONNX
  Runtime's dynamic quantization (engine.use.onnx_cache.quantize_int8)
- openvino: OpenVINO IR converted from that ONNX file (openvino.convert_model)
- coreml: an ML program converted by coremltools from the traced classifier, taking an
  image (Vision-ready) and returning class probabilities; Core ML runs only on Apple devices
- tflite: converted by Google's litert-torch, run back in LiteRT (ai-edge-litert)
- triton: Triton Inference Server's model repository around the ONNX file

Every format with a runtime on this computer is loaded back in it and compared with the run
in torch fp32 on real pictures (engine.use.export_check). The folder is written under a
temporary name and renamed when complete: a failure leaves nothing behind.
"""
from __future__ import annotations

import datetime
import importlib
import sys
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from engine.errors import UserError
from engine.i18n import N_, _

FORMATS = {
    "merged": N_("transformers folder with the LoRA merged into the weights (Python, PyTorch)"),
    "onnx": N_("ONNX, fp32 (ONNX Runtime on servers, desktops and in C++, C#, Java, browsers)"),
    "onnx-int8": N_("ONNX with int8 weights (about 4x smaller, faster on most CPUs; may change "
                    "a close call)"),
    "openvino": N_("OpenVINO IR (Intel CPUs, GPUs and NPUs, edge boxes)"),
    "coreml": N_("Core ML (iPhone, iPad, Mac; converted here, runs only on Apple devices)"),
    "tflite": N_("TensorFlow Lite / LiteRT (Android and small edge devices)"),
    "triton": N_("NVIDIA Triton Inference Server model repository (the ONNX model)"),
}
# format -> (module that must import, what to install)
CONVERTERS = {"onnx": ("onnx", "onnx"), "onnx-int8": ("onnxruntime", "onnxruntime"),
              "openvino": ("openvino", "openvino"), "triton": ("onnx", "onnx"),
              "coreml": ("coremltools", '"lora-studio[export]" (or: pip install coremltools)'),
              "tflite": ("litert_torch", "litert-torch")}
EXPORT_JSON = "lora_studio_export.json"
FAILED_MARK = "VERIFICATION_FAILED.txt"
MODEL_FILES = {"onnx": "model.onnx (pixel_values -> probabilities)",
               "onnx-int8": "model-int8.onnx (pixel_values -> probabilities, int8 weights)",
               "openvino": "model.xml + model.bin (OpenVINO IR, fp16 weights)",
               "coreml": "model.mlpackage (Core ML program: image -> classLabel, probabilities)",
               "tflite": "model.tflite (pixel_values NHWC -> probabilities, one picture a call)",
               "triton": "model_repository/ (Triton's layout around model.onnx)"}


@dataclass
class FormatExport:
    folder: Path
    format: str
    files: list[str] = field(default_factory=list)
    check: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """False only when a check ran and found too many changed answers."""
        return self.check.get("passed") is not False

    def summary(self) -> str:
        return _("Exported {format} to {folder} ({n} files).").format(
            format=self.format, folder=self.folder, n=len(self.files))


def describe(fmt: str) -> str:
    """`fmt`'s one-line description, in the user's language."""
    return _(FORMATS[fmt])


def require_converter(fmt: str) -> None:
    """A plain error naming what to install when `fmt`'s converter is missing."""
    if fmt not in FORMATS:
        raise UserError(_("Unknown export format '{format}': choose one of {choices}.").format(
            format=fmt, choices=", ".join(FORMATS)))
    module, package = CONVERTERS.get(fmt, ("", ""))
    if not module:
        return
    try:
        importlib.import_module(module)
    except ImportError:
        if getattr(sys, "frozen", False):  # the packaged app leaves the heavy converters out
            raise UserError(_(
                "{format} export is not part of the packaged app (its converter is large and "
                "conflicts with other parts): install LoRA Studio from source with pip "
                "(README, \"Exports for phones, edge devices and other runtimes\") and run the "
                "same export there; the packaged app itself exports merged, onnx, onnx-int8, "
                "openvino and triton.").format(format=fmt)) from None
        if fmt == "tflite":
            raise UserError(_(
                "TFLite export needs Google's converter litert-torch, which is not installed: "
                "pip install litert-torch (it brings the LiteRT runtime, about 800 MB, and an "
                "older typing-extensions than coremltools accepts, so install it in a separate "
                "environment beside LoRA Studio).")) from None
        raise UserError(_("{format} export needs {module}, which is not installed: pip install "
                          "{package}").format(format=fmt, module=module, package=package)) from None


def _target_problem(output: Path) -> str:
    from engine.arguments import folder_problem

    if output.exists() and output.is_dir() and any(output.iterdir()):
        return _("{output} already exists and is not an empty folder: choose a new folder name "
                 "so nothing gets overwritten.").format(output=output)
    return folder_problem(output)


def _image_model(classifier, mean, std):
    """Core ML's input: an RGB image scaled to [0, 1]; normalised here, then classified."""
    import torch

    class ImageModel(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.classifier = classifier
            self.register_buffer("mean", torch.tensor([float(v) for v in mean]).view(1, 3, 1, 1))
            self.register_buffer("std", torch.tensor([float(v) for v in std]).view(1, 3, 1, 1))

        def forward(self, image):
            return self.classifier((image - self.mean) / self.std).softmax(-1)

    return ImageModel().eval()


def _write_coreml(classifier, info, names: list[str], path: Path) -> None:
    import warnings

    import coremltools as ct
    import torch

    size = info.image_size
    module = _image_model(classifier, info.mean, info.std)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer and "untested torch version" warnings
        traced = torch.jit.trace(module, torch.rand(1, 3, size, size))
        model = ct.convert(
            traced, convert_to="mlprogram", minimum_deployment_target=ct.target.iOS15,
            inputs=[ct.ImageType(name="image", shape=(1, 3, size, size), scale=1 / 255,
                                 bias=[0, 0, 0], color_layout=ct.colorlayout.RGB)],
            classifier_config=ct.ClassifierConfig(names), skip_model_load=True)
    model.save(str(path))


def _write_tflite(classifier, size: int, path: Path) -> None:
    import litert_torch
    import torch

    from engine.use.export import ProbabilityModel

    module = litert_torch.to_channel_last_io(ProbabilityModel(classifier).eval(), args=[0])
    litert_torch.convert(module, (torch.zeros(1, size, size, 3),)).export(str(path))


def _write_model(fmt: str, predictor, tmp: Path, log) -> tuple[Path | None, Callable | None]:
    """The format's model files in `tmp`; returns (file to check, its runner factory)."""
    from engine.use import export_check as check
    from engine.use.export import export_onnx

    classifier, info = predictor.model, predictor.info
    if fmt in ("onnx", "onnx-int8", "openvino", "triton"):
        onnx_file = export_onnx(classifier, tmp / "model.onnx", info.image_size)
        if fmt == "onnx-int8":
            from engine.use.onnx_cache import quantize_int8

            log(_("Quantizing to int8 ..."))
            target = quantize_int8(onnx_file, tmp / "model-int8.onnx", portable=True)
            onnx_file.unlink()
            return target, check.onnx_runner
        if fmt == "openvino":
            from engine.use import signal_stack
            from engine.use.onnx_sessions import require_openvino

            ov = require_openvino()  # with its converter's usage reports declined
            log(_("Converting to OpenVINO IR ..."))
            with signal_stack.kept():
                ov.save_model(ov.convert_model(str(onnx_file)), str(tmp / "model.xml"))
            onnx_file.unlink()
            return tmp / "model.xml", check.openvino_runner
        if fmt == "triton":
            from engine.use.triton import model_name, write_triton_repository

            write_triton_repository(tmp)  # reads labels.json, preprocessor_config.json
            onnx_file.unlink()  # the repository holds its own link to the same bytes
            return (tmp / "model_repository" / model_name(predictor.name) / "1" / "model.onnx",
                    check.onnx_runner)
        return onnx_file, check.onnx_runner
    if fmt == "coreml":
        log(_("Converting to Core ML ..."))
        _write_coreml(classifier, info, predictor.class_names, tmp / "model.mlpackage")
        return None, None
    if fmt == "tflite":
        log(_("Converting to TFLite (LiteRT) ..."))
        _write_tflite(classifier, info.image_size, tmp / "model.tflite")
        return tmp / "model.tflite", check.tflite_runner
    return tmp, lambda folder: check.merged_runner(folder, classifier.family)


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def export_format(run_dir: str | os.PathLike, output: str | os.PathLike, fmt: str, *,
                  check_images: str | None = None, log: Callable[[str], None] | None = None,
                  progress: Callable[[int, int], None] | None = None) -> FormatExport:
    """Write `output` (new or empty) holding `run_dir` as `fmt`, checked in its runtime."""
    from engine.model.safety import check_run_folder
    from engine.use import export_check, export_readme
    from engine.use.export import export_run, image_processor_for
    from engine.use.predict import Predictor

    log, progress = log or (lambda message: None), progress or (lambda done, total: None)
    output = Path(output).expanduser()
    require_converter(fmt)  # before any slow work
    problem = _target_problem(output)
    if problem:
        raise UserError(problem)
    check_run_folder(run_dir)
    paths, source = export_check.check_images(Path(run_dir), check_images)
    steps = 4
    progress(0, steps)
    log(_("Loading run {run} ...").format(run=run_dir))
    predictor = Predictor(run_dir, device="cpu", merge=True, precision="fp32")
    if hasattr(predictor.model.vision, "merge_and_unload"):  # a peft wrapper left over
        predictor.model.vision = predictor.model.vision.merge_and_unload()
    info, names = predictor.info, predictor.class_names
    progress(1, steps)
    tmp = output.with_name(f".{output.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        if fmt == "merged":
            export_run(run_dir, tmp, predictor=predictor)
            readme = tmp / "README.txt"
            readme.write_text(readme.read_text(encoding="utf-8").replace(
                str(tmp.resolve()), str(output.resolve())), encoding="utf-8")
        else:
            tmp.mkdir(parents=True)
            _write_json(tmp / "labels.json", {str(i): n for i, n in enumerate(names)})
            if fmt == "triton":  # write_triton_repository reads these two
                image_processor_for(info).save_pretrained(str(tmp))
                _write_json(tmp / EXPORT_JSON, {"run": predictor.name})
        log(_("Writing {format} ...").format(format=fmt))
        model_file, runner = _write_model(fmt, predictor, tmp, log)
        _write_json(tmp / "preprocessing.json", export_readme.preprocessing(info, fmt))
        progress(2, steps)
        if runner is None:
            check = {"runtime": None, "passed": None, "images": 0,
                     "note": _(export_readme.COREML_NOT_RUN)}
        else:
            log(_("Checking the export on {n} pictures ({source}) ...").format(
                n=len(paths), source=source or "-"))
            batches = export_check.reference_batches(predictor, paths)
            check = export_check.compare(batches, runner(model_file), source,
                                         _runtime_name(fmt))
        progress(3, steps)
        line = export_check.summary(check)
        _write_record(tmp, fmt, predictor, run_dir, check)
        if fmt != "merged":
            (tmp / "README.txt").write_text(export_readme.readme(
                fmt, name=predictor.name, base=info.ref, classes=len(names),
                size=info.image_size, folder=str(output.resolve()), files=MODEL_FILES[fmt],
                description=_(FORMATS[fmt]), check_line=line,
                triton_model=_triton_name(predictor.name),
                squash=bool(info.framing and info.framing.mode == "squash")), encoding="utf-8")
        if check.get("passed") is False:
            (tmp / FAILED_MARK).write_text(line + "\n", encoding="utf-8")
        progress(steps, steps)  # the last chance to cancel: after it the folder is there
        if output.exists():
            output.rmdir()  # empty (checked above): replaced by the finished folder
        os.replace(tmp, output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    log(line)
    result = FormatExport(output, fmt, sorted(p.name for p in output.iterdir()), check)
    log(result.summary())
    return result


def _triton_name(run_name: str) -> str:
    from engine.use.triton import model_name

    return model_name(run_name)


def _runtime_name(fmt: str) -> str:
    import importlib.metadata as metadata

    package = {"merged": "transformers", "openvino": "openvino", "tflite": "ai-edge-litert"}.get(
        fmt, "onnxruntime")
    try:
        return f"{package} {metadata.version(package)}"
    except metadata.PackageNotFoundError:
        return package


def _write_record(folder: Path, fmt: str, predictor, run_dir, check: dict) -> None:
    """lora_studio_export.json: the run it came from, the tools, and the check's figures."""
    import importlib.metadata as metadata

    record = {}
    if (folder / EXPORT_JSON).is_file():  # the merged folder's own record, kept
        record = json.loads((folder / EXPORT_JSON).read_text(encoding="utf-8"))
    tools = {"torch": metadata.version("torch")}
    module = CONVERTERS.get(fmt, ("", ""))[0]
    package = {"litert_torch": "litert-torch"}.get(module, module)
    if package:
        try:
            tools[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    run = predictor.run
    record.update({
        "format": fmt, "run": predictor.name, "run_dir": str(Path(run_dir).resolve()),
        "base_model": predictor.info.to_dict(), "method": run.get("method"),
        "classes": run.get("classes"), "test_accuracy": run.get("test_accuracy"),
        "best": run.get("best"), "versions": run.get("versions"), "exported_with": tools,
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "check": check})
    _write_json(folder / EXPORT_JSON, record)


__all__ = ["FORMATS", "FormatExport", "describe", "export_format", "require_converter"]
