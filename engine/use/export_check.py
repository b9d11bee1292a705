"""Checking an export against the run: the exported model, loaded back in the runtime that
will compute it (ONNX Runtime, OpenVINO, LiteRT, transformers), answers real pictures as the
run does in torch fp32.

The pictures are the run's test images (else its validation images, or a folder the user
names), at most CHECK_IMAGES of them, decoded and normalised once by the Predictor's own
code; each runtime gets the same float pixels, so the figures measure the model file, not a
second preprocessing. The result: top-1 agreement and the largest probability difference.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np

from engine.errors import UserError
from engine.i18n import _

CHECK_IMAGES = 256  # pictures compared per export (enough for 1 % resolution, seconds on CPU)
MIN_AGREEMENT = 0.99  # below this top-1 agreement an export is marked as failing its check
BATCH = 32

Runner = Callable[[np.ndarray], np.ndarray]  # float pixels [B, 3, S, S] -> probabilities


def check_images(run_dir: Path, folder: str | None = None,
                 limit: int = CHECK_IMAGES) -> tuple[list[str], str]:
    """(image paths, where they come from): `folder`'s images when given, else the run's
    test split, else its validation split; ([], "") when none can be found."""
    if folder:
        from engine.use.predict import expand_inputs

        root = Path(folder).expanduser()
        if not root.is_dir():
            raise UserError(_("{folder} is not a folder: --check-images needs a folder of "
                              "pictures.").format(folder=folder))
        paths = expand_inputs([str(root)])[0][:limit]
        if not paths:
            raise UserError(_("{folder} holds no pictures to check the export on.").format(
                folder=folder))
        return paths, str(root)
    from engine.use.evaluate import _samples_from_split

    for split in ("test", "val"):
        try:
            _index, samples, _skipped = _samples_from_split(run_dir, split, None)
        except (UserError, OSError, ValueError):
            continue
        if samples:
            return [s.path for s in samples][:limit], _("{split} images").format(split=split)
    return [], ""


def reference_batches(predictor, paths: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(float pixels, torch fp32 probabilities)] per batch; unreadable pictures are left out.
    `predictor`: a Predictor in fp32 on the CPU."""
    from engine.data.cache import DecodeCache

    cache = DecodeCache(predictor.resolution, framing=predictor.framing)
    batches = []
    for start in range(0, len(paths), BATCH):
        loaded = cache.load(paths[start:start + BATCH])
        if loaded.kept:
            pixels = predictor.augmenter.eval_batch(loaded.images).float().contiguous()
            batches.append((pixels.numpy(), predictor.probabilities(loaded.images).numpy()))
    return batches


def compare(batches, run: Runner, source: str, runtime: str) -> dict:
    """Top-1 agreement and max |Δp| of `run` against the reference batches."""
    agree, max_dp, n = 0, 0.0, 0
    for pixels, expected in batches:
        got = np.asarray(run(pixels), dtype=np.float32)
        agree += int((got.argmax(-1) == expected.argmax(-1)).sum())
        max_dp = max(max_dp, float(np.abs(got - expected).max()))
        n += len(expected)
    result = {"runtime": runtime, "compared_with": "torch fp32", "on": source, "images": n,
              "top1_agreement": None, "max_abs_dp": None, "passed": None}
    if n:
        result.update(top1_agreement=round(agree / n, 4), max_abs_dp=round(max_dp, 6),
                      passed=agree / n >= MIN_AGREEMENT)
    return result


def summary(check: dict) -> str:
    """The line the command prints and the dialog shows."""
    if check.get("runtime") is None:
        return _("Not checked: {reason}").format(reason=check.get("note", ""))
    if not check.get("images"):
        return _("Not checked: no pictures to compare on (the run's test and validation "
                 "images are missing): pass --check-images FOLDER.")
    line = _("top-1 agreement: {agreement:.1%} on {n} images, max |Δp|: {dp:.3g} ({runtime} "
             "against the run in torch fp32)").format(
        agreement=check["top1_agreement"], n=check["images"], dp=check["max_abs_dp"],
        runtime=check["runtime"])
    if not check["passed"]:
        line += " " + _("CHECK FAILED: below {limit:.0%}, so the export changes more answers "
                        "than it should; the folder is kept and marked (VERIFICATION_FAILED.txt). "
                        "Where every answer must match the run, export full precision (--format "
                        "onnx).").format(limit=MIN_AGREEMENT)
    return line


# -- the runtimes -----------------------------------------------------------------------------
def onnx_runner(path: Path) -> Runner:
    from engine.use.onnx_sessions import ort_session

    session = ort_session(path)
    return lambda pixels: session.run(None, {"pixel_values": pixels})[0]


def openvino_runner(xml: Path) -> Runner:
    from engine.use.onnx_sessions import openvino_session

    session = openvino_session(xml)
    return lambda pixels: session.run(None, {"pixel_values": pixels})[0]


def tflite_runner(path: Path) -> Runner:
    """LiteRT's interpreter (ai-edge-litert); the file takes one NHWC picture at a time."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    runner = interpreter.get_signature_runner()
    (name,) = runner.get_input_details()

    def run(pixels: np.ndarray) -> np.ndarray:
        rows = [next(iter(runner(**{name: image[None].transpose(0, 2, 3, 1).copy()}).values()))
                for image in pixels]
        return np.concatenate(rows)

    return run


def merged_runner(folder: Path, family) -> Runner:
    """The merged folder through transformers' from_pretrained and the head's formula, as
    its README shows. `family`: the run's backbone family (its transformers class)."""
    import torch
    from safetensors.torch import load_file

    from engine.model.classifier import quiet_transformers

    with quiet_transformers():
        model = family.load_vision(str(folder)).eval()
    head = load_file(str(folder / "head.safetensors"))

    @torch.no_grad()
    def run(pixels: np.ndarray) -> np.ndarray:
        emb = getattr(model(pixel_values=torch.from_numpy(pixels)), family.embedding_output)
        logits = (head["scale"] * torch.nn.functional.normalize(emb, dim=-1) @ head["weight"].T
                  + head["bias"]) / head["temperature"]
        return logits.softmax(-1).numpy()

    return run
