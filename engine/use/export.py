"""Export a run as a standalone model folder that needs transformers + safetensors only.

The folder holds the backbone's image tower with the LoRA update merged into its weights
(config.json + model.safetensors, via save_pretrained), the classifier head
(head.safetensors), the label map (labels.json), the image processor settings
(preprocessor_config.json) and a README with a short usage snippet. Optionally an ONNX
file of the whole classifier (pixel_values -> probabilities).
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from engine.errors import UserError
from engine.i18n import N_, _

# README.txt: the words in the user's language (README), then the code (README_CODE), as is.
README = N_("""\
LoRA Studio export of run '{name}' ({num_classes} classes, base model {base}).

Files: config.json + model.safetensors (image encoder, LoRA merged), head.safetensors
(classifier: logits = (scale * normalize(embedding) @ weight.T + bias) / temperature, the
temperature calibrated on the validation images), labels.json
(class index -> name, also in config.json's id2label), preprocessor_config.json (resize,
crop, normalisation){onnx_line}, lora_studio_export.json (where it came from).

Use it with transformers alone (pip install transformers torch pillow safetensors):
""")
README_CODE = """\
import torch
from PIL import Image
from safetensors.torch import load_file
from transformers import AutoImageProcessor, {vision_class}
folder = {folder_hint!r}  # this folder
model = {vision_class}.from_pretrained(folder).eval().requires_grad_(False)
processor, head = AutoImageProcessor.from_pretrained(folder), load_file(f"{{folder}}/head.safetensors")
emb = model(**processor(images=Image.open("photo.jpg").convert("RGB"), return_tensors="pt")).{embedding}
probs = ((head["scale"] * torch.nn.functional.normalize(emb, dim=-1) @ head["weight"].T + head["bias"]) / head["temperature"]).softmax(-1)
print(model.config.id2label[int(probs.argmax())], float(probs.max()))
"""


@dataclass
class ExportResult:
    folder: Path
    files: list[str] = field(default_factory=list)
    onnx_path: Path | None = None

    def summary(self) -> str:
        if self.onnx_path:
            return _("Exported to {folder} ({n} files, including model.onnx).").format(
                folder=self.folder, n=len(self.files))
        return _("Exported to {folder} ({n} files).").format(folder=self.folder, n=len(self.files))


class ProbabilityModel(nn.Module):
    """The classifier with softmax on top: what the ONNX file computes."""

    def __init__(self, classifier: nn.Module):
        super().__init__()
        self.classifier = classifier

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.classifier(pixel_values).softmax(-1)


def _check_output(output: Path) -> None:
    if output.exists() and (not output.is_dir() or any(output.iterdir())):
        raise UserError(_("{output} already exists and is not an empty folder: choose a new "
                          "folder name so nothing gets overwritten.").format(output=output))


def image_processor_for(info):
    """The base model's own image processor class with the run's framing and statistics,
    so AutoImageProcessor on the export prepares pictures as the run was trained: CLIP's
    shortest side + centre crop, DINOv2's 256 -> 224 crop, SigLIP's squash to a square.
    A run from before framings was framed like CLIP, so it gets CLIP's processor."""
    from engine.data.framing import CROP, Framing
    from engine.model.classifier import quiet_transformers

    framing = info.framing or Framing.clip(info.image_size)
    size = {"shortest_edge": framing.resize} if framing.mode == CROP else \
        {"height": framing.resize, "width": framing.resize}
    settings = dict(do_resize=True, size=size, resample=framing.resample,
                    do_center_crop=framing.crop < framing.resize or framing.mode == CROP,
                    crop_size={"height": framing.crop, "width": framing.crop},
                    do_rescale=True, rescale_factor=1 / 255, do_normalize=True,
                    image_mean=list(info.mean), image_std=list(info.std), do_convert_rgb=True)
    with quiet_transformers():  # not its note that torchvision is missing
        from transformers import AutoImageProcessor, CLIPImageProcessor

        kind = CLIPImageProcessor
        if info.framing is not None:
            try:  # the class only; every setting that frames a picture comes from the run
                kind = type(AutoImageProcessor.from_pretrained(info.ref))
            except Exception:  # base model files moved since loading: same numbers, CLIP's class
                pass
        return kind(**settings)


def _write_json(path: Path, data) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _require_onnx() -> None:
    try:
        import onnx  # noqa: F401  (torch's exporter writes through it)
    except ImportError:
        raise UserError(_("ONNX export needs the 'onnx' package: pip install onnx (and "
                          "onnxruntime to run the exported file).")) from None


def export_onnx(classifier: nn.Module, path: str | os.PathLike, image_size: int) -> Path:
    """pixel_values [B, 3, S, S] -> probabilities [B, classes] as ONNX (needs `onnx`)."""
    import warnings

    _require_onnx()

    path = Path(path)
    model = ProbabilityModel(classifier).eval()
    dummy = torch.zeros(1, 3, image_size, image_size)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracer warnings about Python-side shape checks
        # The TorchScript exporter needs only `onnx`; the dynamo one would add onnxscript.
        torch.onnx.export(model, (dummy,), str(path), input_names=["pixel_values"],
                          output_names=["probabilities"], opset_version=17, dynamo=False,
                          dynamic_axes={"pixel_values": {0: "batch"},
                                        "probabilities": {0: "batch"}})
    return path


def _same_mode(folder: Path, reference: Path) -> None:
    """safetensors writes owner-only (0600) files; give them the folder's normal mode."""
    mode = reference.stat().st_mode & 0o777
    for path in folder.iterdir():
        path.chmod(mode)


def export_run(run_dir: str | os.PathLike, output: str | os.PathLike, *, onnx: bool = False,
               log: Callable[[str], None] | None = None, predictor=None) -> ExportResult:
    """Write the standalone model folder `output` (must be new or empty) for `run_dir`.
    `predictor`: the run already loaded (fp32, merged, CPU), else it is loaded here."""
    from safetensors.torch import save_file

    from engine.model.classifier import quiet_transformers
    from engine.use.predict import Predictor

    output = Path(output).expanduser()
    _check_output(output)
    if onnx:
        _require_onnx()  # before the slow model load
    log = log or (lambda message: None)
    if predictor is None:
        log(_("Loading run {run} ...").format(run=run_dir))
        predictor = Predictor(run_dir, device="cpu", merge=True, precision="fp32")
    classifier, info, names = predictor.model, predictor.info, predictor.class_names
    vision = classifier.vision
    if hasattr(vision, "merge_and_unload"):  # a peft wrapper left over: merge it now
        vision = vision.merge_and_unload()
        classifier.vision = vision

    tmp = output.with_name(f".{output.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        vision.config.id2label = {i: n for i, n in enumerate(names)}
        vision.config.label2id = {n: i for i, n in enumerate(names)}
        with quiet_transformers():
            vision.save_pretrained(str(tmp))
        save_file(classifier.head.state_for_saving(), str(tmp / "head.safetensors"),
                  metadata={"formula": "logits = (scale * normalize(embedding) @ weight.T + bias)"
                                       " / temperature"})
        _write_json(tmp / "labels.json", {str(i): n for i, n in enumerate(names)})
        image_processor_for(info).save_pretrained(str(tmp))
        _write_json(tmp / "lora_studio_export.json", {
            "run": predictor.name, "base_model": info.to_dict(), "method": predictor.run.get("method"),
            "classes": predictor.run.get("classes"), "test_accuracy": predictor.run.get("test_accuracy"),
            "best": predictor.run.get("best"), "versions": predictor.run.get("versions")})
        if onnx:
            log(_("Writing model.onnx ..."))
            export_onnx(classifier, tmp / "model.onnx", info.image_size)
        words = _(README).format(
            name=predictor.name, num_classes=len(names), base=info.ref,
            onnx_line=", model.onnx (pixel_values -> probabilities)" if onnx else "")
        (tmp / "README.txt").write_text(
            words + "\n" + README_CODE.format(folder_hint=str(output.resolve()),
                                               vision_class=classifier.family.vision_class,
                                               embedding=classifier.family.embedding_output),
            encoding="utf-8")
        _same_mode(tmp, tmp / "README.txt")
        if output.exists():
            output.rmdir()  # empty (checked above): replaced by the finished folder
        os.replace(tmp, output)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result = ExportResult(output, sorted(p.name for p in output.iterdir()),
                          output / "model.onnx" if onnx else None)
    log(result.summary())
    return result
