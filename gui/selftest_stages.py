"""The stages of `--self-test`: every code path the app runs, on a tiny offline model.

Each stage takes the shared context dict, does one job of the real app with the real
engine code, checks its result and returns a one-line detail (or raises). Together they
import what the app imports and exercise what it does: load a CLIP checkpoint with its
text tower (zero-shot head), LoRA training with TensorBoard logging, the two fast CPU
modes (frozen-block cache, linear probe), reloading a run and predicting, the evaluation
report with its PNG, the merged-model export, and DataLoader worker processes (which
need freeze_support in a frozen app). A packaged build that lacks a data file, a
module or a package's metadata fails here, not in a user's hands.
"""
from __future__ import annotations

import os
from pathlib import Path

# Every runtime dependency the app imports (directly or through an engine module), so a
# bundle that lost one fails at this stage with the module's name.
RUNTIME_MODULES = (
    "numpy", "PIL.Image", "safetensors.torch", "sklearn.metrics", "tensorboardX", "yaml",
    "torch", "accelerate", "transformers", "peft", "peft.tuners.lora", "pyqtgraph",
    "PySide6.QtWidgets", "PySide6.QtSvg", "cleanlab.filter", "cleanlab.rank", "captum.attr",
    "onnx", "onnxruntime", "openvino", "fastapi", "uvicorn", "multipart", "swagger_ui_bundle",
    "av",
)


def stage_imports(ctx: dict) -> str:
    import importlib

    for name in RUNTIME_MODULES:
        importlib.import_module(name)
    # transformers resolves these lazily, by name: the frozen app must hold their code.
    from transformers import (CLIPModel, CLIPProcessor,  # noqa: F401
                              CLIPTokenizer, CLIPVisionModelWithProjection)
    import peft
    import torch
    import transformers

    return (f"{len(RUNTIME_MODULES)} modules; torch {torch.__version__}, "
            f"transformers {transformers.__version__}, peft {peft.__version__}")


def stage_dataset(ctx: dict) -> str:
    from engine.demo.dataset import make_demo_dataset

    ctx["data"] = make_demo_dataset(ctx["tmp"] / "data", num_classes=3, size=(48, 40), seed=0,
                                    splits={"train": 8, "val": 3, "test": 3})
    count = sum(1 for _ in ctx["data"].rglob("*.jpg"))
    return f"{count} images, 3 classes"


def stage_model(ctx: dict) -> str:
    from engine.demo.model import make_tiny_clip

    ctx["model"] = make_tiny_clip(ctx["tmp"] / "model")
    return "tiny CLIP, random weights, 32 px"


def _train(ctx: dict, name: str, **overrides):
    """One real training run through engine.training.loop; returns (RunFinished, run folder)."""
    from engine.config import TrainConfig
    from engine.events import RunFinished
    from engine.training.loop import train

    settings = dict(data_dir=str(ctx["data"]), model=str(ctx["model"]), epochs=1, max_steps=4,
                    batch_size=8, device="cpu", precision="fp32", num_threads=1,
                    output_dir=str(ctx["tmp"] / "runs"), run_name=name,
                    cache_dir=str(ctx["tmp"] / "cache"))
    config = TrainConfig(**{**settings, **overrides})
    problems = config.validate()
    if problems:
        raise RuntimeError(f"invalid self-test config: {problems}")
    events = list(train(config))
    finished = [e for e in events if isinstance(e, RunFinished)]
    if len(finished) != 1:
        raise RuntimeError(f"expected one RunFinished event, got {len(finished)}")
    if finished[0].status != "completed":
        raise RuntimeError(f"training ended '{finished[0].status}': {finished[0].error}")
    return events, Path(finished[0].run_dir)


def stage_train(ctx: dict) -> str:
    events, run_dir = _train(ctx, "self-test")
    missing = [n for n in ("run.json", "head.safetensors", "adapter/adapter_model.safetensors",
                           "metrics.jsonl", "checkpoints/last/state.json")
               if not (run_dir / n).is_file()]
    if missing:
        raise RuntimeError(f"run folder {run_dir} lacks {', '.join(missing)}")
    kinds = {type(e).__name__ for e in events}
    if not {"RunStarted", "Step", "Evaluation"} <= kinds:
        raise RuntimeError(f"the run reported only {sorted(kinds)}")
    tb_files = list((run_dir / "tb").glob("events.out.tfevents.*"))
    if not tb_files or not any(f.stat().st_size > 0 for f in tb_files):
        raise RuntimeError("no TensorBoard event file was written (tensorboardX)")
    ctx["run_dir"] = run_dir
    return f"LoRA run completed, saved to {run_dir.name}/ with TensorBoard log"


def stage_fast_modes(ctx: dict) -> str:
    # The Quick (CPU) preset's path: LoRA on the last block with its frozen blocks cached.
    events, cached = _train(ctx, "self-test-last-block", lora_last_n_blocks=1, augment=False,
                            cache_frozen_blocks=True)
    said = " ".join(str(e.to_dict()) for e in events).lower()
    if "frozen blocks once per image" not in said:
        raise RuntimeError("the frozen-block cache was not used")
    _, probe = _train(ctx, "self-test-probe", method="linear-probe", augment=False)
    if not (probe / "head.safetensors").is_file():
        raise RuntimeError("the linear probe saved no head")
    return f"frozen-block cache ({cached.name}/) and linear probe ({probe.name}/)"


def stage_predict(ctx: dict) -> str:
    from engine.use.predict import Predictor

    predictor = Predictor(ctx["run_dir"], device="cpu")
    image = sorted((ctx["data"] / "test").rglob("*.jpg"))[0]
    prediction = predictor.predict([image], top_k=2)[0]
    if prediction.error:
        raise RuntimeError(prediction.error)
    label, confidence = prediction.top[0]
    if label not in predictor.class_names or not 0.0 <= confidence <= 1.0:
        raise RuntimeError(f"implausible prediction {prediction.top!r}")
    ctx["predictor"], ctx["image"], ctx["prediction"] = predictor, image, prediction
    return f"{image.name} -> {label} ({confidence:.0%})"


def stage_evaluate(ctx: dict) -> str:
    from PIL import Image

    from engine.use.evaluate import evaluate_run

    report = evaluate_run(ctx["run_dir"], split="test", predictor=ctx["predictor"])
    folder = Path(report.report_dir)
    for name in ("report.json", "errors.csv"):
        if not (folder / name).is_file():
            raise RuntimeError(f"the evaluation wrote no {name}")
    with Image.open(folder / "confusion_matrix.png") as png:
        png.load()
        size = png.size
    if not report.calibration or not (folder / "reliability.png").is_file():
        raise RuntimeError("the evaluation wrote no calibration (reliability diagram)")
    return f"accuracy {report.accuracy:.0%} on {len(report.samples)} images, matrix {size[0]}x{size[1]} px"


def stage_data_tools(ctx: dict) -> str:
    # The label check (cleanlab), near-duplicates, and a Grad-CAM heat map (captum).
    from engine.review.check import check_dataset
    from engine.use.explain import explain, write_overlays

    report = check_dataset(str(ctx["data"]), model_ref=str(ctx["model"]), device="cpu",
                           output=str(ctx["tmp"] / "data-check"), folds=2)
    for name in ("data_check.json", "label_issues.csv", "near_duplicates.csv"):
        if not (Path(report.report_dir) / name).is_file():
            raise RuntimeError(f"the data check wrote no {name}")
    written = write_overlays(explain(ctx["predictor"], [str(ctx["image"])]), ctx["tmp"] / "why")
    if len(written) != 1 or written[0].stat().st_size == 0:
        raise RuntimeError("no heat map was written")
    return (f"{report.checked} labels checked ({len(report.issues)} doubtful), "
            f"{len(report.duplicates)} near-duplicate pairs, heat map {written[0].name}")


def stage_export(ctx: dict) -> str:
    import torch
    from safetensors.torch import load_file
    from transformers import CLIPVisionModelWithProjection

    from engine.use.export import export_run
    from engine.model.classifier import LinearHead, load_run_classifier, quiet_transformers

    out = ctx["tmp"] / "export"
    export_run(ctx["run_dir"], out)
    with quiet_transformers():
        vision = CLIPVisionModelWithProjection.from_pretrained(str(out)).eval()
    head = LinearHead.from_saved(load_file(str(out / "head.safetensors")))
    predictor = ctx["predictor"]  # the run's own preprocessing, then the exported weights
    pixels = predictor.augmenter.eval_batch(torch.from_numpy(predictor.decode(ctx["image"]))[None])
    run_model, _ = load_run_classifier(ctx["run_dir"])  # in fp32 (the predictor may hold bf16)
    with torch.no_grad():  # both in fp32: the export must hold the run's merged weights
        exported = head(vision(pixel_values=pixels).image_embeds)
        expected = run_model(pixels)
    if not torch.allclose(exported, expected, atol=1e-4, rtol=1e-4):
        raise RuntimeError(f"the exported model gives {exported.tolist()}, the run {expected.tolist()}")
    return "merged model folder reloads with plain transformers and agrees with the run"


class _Squares:
    """A picklable dataset: spawn workers must import this module to rebuild it."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        import torch

        return torch.tensor([float(i * i), float(os.getpid())])


def stage_workers(ctx: dict) -> str:
    import torch
    from torch.utils.data import DataLoader

    # One worker is enough to prove a spawned child re-enters the app through freeze_support.
    loader = DataLoader(_Squares(), batch_size=4, num_workers=1, multiprocessing_context="spawn",
                        timeout=120)
    batches = list(loader)
    values = torch.cat([b[:, 0] for b in batches]).tolist()
    pids = {int(p) for b in batches for p in b[:, 1].tolist()}
    if sorted(values) != [float(i * i) for i in range(8)]:
        raise RuntimeError(f"workers returned {values}")
    if os.getpid() in pids:
        raise RuntimeError("items were produced in the main process, not in workers")
    return f"batches made by spawned worker process {', '.join(map(str, sorted(pids)))}"


def stage_families(ctx: dict) -> str:
    """The other backbone families load and classify: SigLIP (text tower, zero-shot head,
    read by the SentencePiece tokenizer google/siglip-* publish: the sentencepiece package
    must be in the bundle) and DINOv2 (no text: its processor is Bit's), from tiny
    checkpoints."""
    import torch

    from engine.demo.tiny_backbones import make_tiny_dinov2, make_tiny_siglip
    from engine.model.classifier import build_classifier

    found = []
    for make in (make_tiny_siglip, make_tiny_dinov2):
        folder = make(ctx["tmp"] / make.__name__)
        model, info = build_classifier(str(folder), ["a", "b"], method="lora")
        if info.family == "siglip" and model.no_zero_shot:  # e.g. sentencepiece not bundled
            raise RuntimeError(f"SigLIP's zero-shot head could not be made: {model.no_zero_shot}")
        with torch.no_grad():
            logits = model.eval()(torch.rand(2, 3, info.image_size, info.image_size))
        if tuple(logits.shape) != (2, 2) or not torch.isfinite(logits).all():
            raise RuntimeError(f"{info.family} gave logits {logits}")
        found.append(info.family)
    return ", ".join(found) + " load, take LoRA and classify (SigLIP's SentencePiece tokenizer read)"


def stage_translations(ctx: dict) -> str:
    """Every language's catalogues are in the bundle: the app's (.qm, compiled at build
    time), Qt's own (file dialogs, buttons) and the engine's (.po)."""
    from PySide6.QtCore import QLibraryInfo, QTranslator

    from engine import i18n as engine_i18n
    from gui import i18n

    found = []
    for language in engine_i18n.LANGUAGES:
        if language == engine_i18n.DEFAULT:
            continue
        qm = i18n.qm_path(language)
        own, qt = QTranslator(), QTranslator()
        if not (qm.is_file() and own.load(str(qm)) and not own.isEmpty()):
            raise RuntimeError(f"the app's {language} catalogue is missing: {qm}")
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        if not qt.load(f"qtbase_{language}", folder):
            raise RuntimeError(f"Qt's own {language} catalogue is missing from {folder}")
        entries = engine_i18n._load(language)
        if not entries:
            raise RuntimeError(f"the engine's {language} catalogue is missing: "
                               f"{engine_i18n.catalogue_path(language)}")
        found.append(f"{language}: {len(entries)} engine texts")
    return "; ".join(found)


def stage_sorting_map(ctx: dict) -> str:
    # Sorting proposals (scikit-learn's probe) and the dataset map (openTSNE's compiled
    # parts): what a frozen build must carry for sort-images and map.
    import numpy as np

    from engine.review.map import compute_map
    from engine.review.proposals import propose

    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 32)) * 4
    vectors = np.concatenate([c + rng.normal(size=(40, 32)) for c in centres]).astype("float32")
    truth = np.repeat(np.arange(3), 40)
    confirmed = {int(i): int(truth[i]) for c in range(3) for i in np.flatnonzero(truth == c)[:3]}
    proposals = propose(vectors, confirmed, 3)
    agree = float((proposals.probs.argmax(1) == truth).mean())
    if agree < 0.9:
        raise RuntimeError(f"sorting proposals agree with only {agree:.0%} of the classes")
    layout = compute_map(vectors, method="tsne", seed=0)
    if layout.shape != (len(vectors), 2) or not np.isfinite(layout).all():
        raise RuntimeError(f"the map gave a {layout.shape} layout")
    return f"proposals {agree:.0%} right after 3 per class, t-SNE map of {len(vectors)} points"


def stage_fast_backends(ctx: dict) -> str:
    # ONNX export + ONNX Runtime (fp32, int8) + OpenVINO (bf16/fp32, and int8 quantized by
    # NNCF on the run's own images): their native libraries and plugins must be in the
    # bundle, and each must give the torch Predictor's answer
    from engine.use.backends import open_predictor

    found = []
    for backend in ("onnx", "onnx-int8", "openvino", "openvino-int8"):
        predictor = open_predictor(ctx["run_dir"], backend=backend, device="cpu")
        got = predictor.predict([ctx["image"]], top_k=2)[0]
        if got.error:
            raise RuntimeError(f"{backend}: {got.error}")
        want = ctx["prediction"].top[0]
        if abs(got.top[0][1] - want[1]) > 0.05 and got.top[0][0] != want[0]:
            raise RuntimeError(f"{backend} answered {got.top[0]!r}, torch {want!r}")
        found.append(f"{backend} {got.top[0][1]:.0%}")
    return ", ".join(found)


def stage_serve(ctx: dict) -> str:
    # the prediction server on loopback: FastAPI, uvicorn, multipart, the offline /docs
    from engine.serve.client import Client
    from engine.serve.config import ServeConfig
    from engine.serve.server import start_in_thread

    server = start_in_thread(ctx["predictor"], ServeConfig(port=0))
    try:
        client = Client(server.url)
        status, answer = client.predict([(ctx["image"].name, ctx["image"].read_bytes())])
        if status != 200:
            raise RuntimeError(f"POST /v1/predict answered {status}: {answer}")
        label = answer["predictions"][0]["label"]
        docs, _ = client.request("GET", "/docs")
        if docs != 200:
            raise RuntimeError(f"GET /docs answered {docs}")
        client.close()
    finally:
        server.stop()
    return f"{server.url}: {ctx['image'].name} -> {label}, /docs offline"


def stage_video(ctx: dict) -> str:
    # PyAV with FFmpeg's libraries (H.264 both ways): a generated clip decoded, with its
    # timestamps, and two of its frames classified, as `predict` on a video does
    from engine.demo.video import make_demo_video
    from engine.use.video import open_video

    path = make_demo_video(ctx["tmp"] / "clip.mp4", ((0.5, (215, 40, 40)), (0.5, (40, 80, 220))),
                           codec="libx264")
    with open_video(path) as video:
        frames = list(video.frames(every=0.5))
    if [round(f.time, 3) for f in frames] != [0.0, 0.5]:
        raise RuntimeError(f"the clip decoded to frames at {[f.time for f in frames]} s")
    found = ctx["predictor"].predict([f.image for f in frames], top_k=1)
    if any(p.error for p in found):
        raise RuntimeError(f"a frame could not be classified: {found[0].error or found[1].error}")
    return f"{path.name}: " + ", ".join(f"{f.time:.1f} s -> {p.label}"
                                        for f, p in zip(frames, found))


SELF_TEST_STAGES = [
    ("imports", stage_imports),
    ("demo dataset", stage_dataset),
    ("demo model", stage_model),
    ("train", stage_train),
    ("fast modes", stage_fast_modes),
    ("reload+predict", stage_predict),
    ("evaluate+report", stage_evaluate),
    ("data check+heat map", stage_data_tools),
    ("sorting+map", stage_sorting_map),
    ("export", stage_export),
    ("fast backends", stage_fast_backends),
    ("serve", stage_serve),
    ("video", stage_video),
    ("worker processes", stage_workers),
    ("backbone families", stage_families),
    ("translations", stage_translations),
]
