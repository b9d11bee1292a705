"""Command line: `evaluate`, `predict` and `export` over a saved run folder.

Registered into `python -m engine` by engine.cli.main (register_cli). Heavy imports happen
inside the handlers so `--help` stays instant.
"""
from __future__ import annotations

import argparse
import sys
from typing import Callable

from engine.cli import checks
from engine.cli.checks import number
from engine.i18n import _


def _progress(label: str) -> Callable[[int, int], None] | None:
    """A one-line progress counter on stderr when it is a terminal (quiet in logs and pipes)."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int) -> None:
        end = "\n" if done >= total else ""
        print(f"\r{label} {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


def _load_predictor(args: argparse.Namespace, backend: str | None = None):
    from engine.use.backends import open_predictor

    predictor = open_predictor(args.run, backend or args.backend, device=args.device,
                               not_sure_below=getattr(args, "not_sure_below", 0.0),
                               tta=getattr(args, "tta", "off"),
                               log=lambda line: print(line, file=sys.stderr))
    for warning in predictor.warnings:
        print(_("warning: {message}").format(message=warning), file=sys.stderr)
    from engine.use.backends import agreement_line

    if agreement_line(predictor):
        print(agreement_line(predictor), file=sys.stderr)
    return predictor


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.use.evaluate import evaluate_run

    checks.require_writable(Path(args.run) / "report", _(
        "evaluate writes its report into the run folder: copy the run folder to a place you "
        "can write to and evaluate the copy."))
    report = evaluate_run(args.run, split=args.split, folder=args.folder,
                          progress=_progress(_("evaluating")), predictor=_load_predictor(args),
                          batch_size=args.batch_size, data_root=args.data_root)
    print(report.summary())
    return 0


def _format_prediction(p, shown: int = 3) -> str:
    if p.error:
        return _("{source}: cannot predict: {error}").format(source=p.source, error=p.error)
    top = _(", ").join(f"{name} {prob:.1%}" for name, prob in p.top[:shown])
    if p.not_sure:
        return _("{source}: not sure (none of the classes fits well: {top})").format(
            source=p.source, top=top)
    if p.low_confidence:
        return _("{source}: {top}  (low confidence)").format(source=p.source, top=top)
    return f"{p.source}: {top}"


def _cmd_predict(args: argparse.Namespace) -> int:
    from engine.data.shards import start
    from engine.use.predict import export_predictions
    from engine.use.video_predict import has_video

    if has_video(args.paths) or args.every is not None:
        from engine.cli.predict_video import predict_videos, videos_alone

        if videos_alone(args):
            return predict_videos(args, _load_predictor, _progress(_("predicting frames")))
    shards = start(args.device)  # None: one process (not under torchrun / accelerate launch)
    if shards is not None:
        from engine.cli.predict_shards import predict_in_shards

        return predict_in_shards(args, shards, _load_predictor, _format_prediction,
                                 _progress(_("predicting")))
    predictor = _load_predictor(args)
    predictions = predictor.predict(args.paths, top_k=args.top_k, batch_size=args.batch_size,
                                    progress=_progress(_("predicting")))
    for p in predictions:
        print(_format_prediction(p))
    if args.output:
        print(_("saved {count} predictions to {path}").format(
            count=len(predictions), path=export_predictions(predictions, args.output)))
    if args.explain:
        from engine.use.explain import explain, write_overlays

        readable = [p for p in predictions if not p.error and not p.source.startswith("<")]
        if predictor.model is None:  # heat maps need torch's gradients, whatever predicted
            predictor = _load_predictor(args, "torch")
        written = write_overlays(explain(predictor, [p.source for p in readable],
                                         batch_size=args.batch_size), args.explain)
        print(_("saved {count} heat maps (why each class) to {path}").format(
            count=len(written), path=args.explain))
    failed = sum(1 for p in predictions if p.error)
    if failed:
        print(_("{failed} of {total} inputs could not be predicted.").format(
            failed=failed, total=len(predictions)), file=sys.stderr)
    return 1 if failed else 0


def _cmd_export(args: argparse.Namespace) -> int:
    from engine.errors import UserError
    from engine.use.export import export_run

    if args.format:
        if args.onnx or args.triton:
            raise UserError(_("--onnx and --triton add to the merged folder; with --format "
                              "choose one format instead (--format onnx, --format triton)."))
        from engine.use.export_formats import export_format

        result = export_format(args.run, args.output, args.format,
                               check_images=args.check_images, log=print,
                               progress=_progress(_("exporting")))
        return 0 if result.passed else 1
    export_run(args.run, args.output, onnx=args.onnx or args.triton, log=print)
    if args.triton:
        from engine.use.triton import write_triton_repository

        print(_("Wrote the Triton Inference Server layout: {path}").format(
            path=write_triton_repository(args.output)))
    return 0


def _common(p: argparse.ArgumentParser, backend: str) -> None:
    p.add_argument("run", type=checks.run_folder,
                   help=_("run folder (runs/<name>) holding run.json, adapter/ and "
                          "head.safetensors"))
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"],
                   help=_("where to compute: auto picks cuda, then mps, then cpu"))
    p.add_argument("--batch-size", type=number(int, 1, 4096), default=32,
                   help=_("images per forward pass (1 to 4096, default 32)"))
    from engine.use.backends import BACKENDS

    p.add_argument("--backend", default=backend, choices=BACKENDS,
                   help=_("what computes (default {default}): torch; onnx (ONNX Runtime, fp32: "
                          "the answers of torch fp32); onnx-int8 (int8, fastest on most CPUs, but "
                          "it can change a close call: choose onnx where every answer must "
                          "match); openvino (needs openvino); openvino-int8 (needs openvino and "
                          "nncf); auto (the fastest measured for this CPU; it keeps fp32 or bf16 "
                          "for a run whose int8 answers differ). The ONNX file "
                          "is built on first use and kept in the cache folder").format(
                       default=backend))
    add_tta_argument(p)


def add_tta_argument(p: argparse.ArgumentParser) -> None:
    """--tta, for evaluate, predict and serve (engine.use.tta)."""
    from engine.config import TrainConfig

    modes = TrainConfig.__dataclass_fields__["tta"].metadata["choices"]  # engine.use.tta.MODES
    p.add_argument("--tta", default="off", choices=modes,
                   help=_("test-time augmentation: average the calibrated probabilities of "
                          "the image and its mirror (flip, 2 views) plus 5 crops (flip+crops, "
                          "7 views), with the temperature fitted for those views on the "
                          "validation split (default off)"))


def register_cli(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help=_("Measure a trained run on a split or a labelled "
                                          "folder; writes the run's report/ folder."))
    _common(p, "torch")  # torch: the report training wrote, reproduced exactly
    p.add_argument("--split", default="test", choices=["test", "val", "train"],
                   help=_("which split of the run's own dataset (from its split.json)"))
    p.add_argument("--folder", default=None, type=checks.existing_folder,
                   help=_("evaluate on this labelled folder instead (class sub-folders named "
                          "like the run's classes)"))
    p.add_argument("--data-root", default=None, type=checks.existing_folder,
                   help=_("new location of the run's dataset, if it was moved"))
    p.set_defaults(func=_cmd_evaluate)

    p = sub.add_parser("predict", help=_("Classify images or folders with a trained run."))
    _common(p, "auto")
    p.add_argument("paths", nargs="+", type=checks.existing_path,
                   help=_("image files, folders (searched recursively for images) and/or "
                          "video files (.mp4, .mov, .avi, .mkv, .webm, ...)"))
    p.add_argument("--top-k", type=number(int, 1), default=5,
                   help=_("how many labels to keep per image (at least 1, default 5; more "
                          "than the run's classes keeps them all)"))
    p.add_argument("--output", default=None, type=checks.writable_file((".csv", ".json")),
                   help=_("also save the predictions: a .csv or .json file name"))
    p.add_argument("--not-sure-below", type=number(float, 0.0, 1.0), default=0.0, metavar="P",
                   help=_("call an image 'not sure' instead of naming a class when its "
                          "(calibrated) top probability is below P, e.g. 0.5 (default: 0, "
                          "always name one)"))
    from engine.cli.predict_video import every_argument

    p.add_argument("--every", type=every_argument, default=None, metavar="TIME",
                   help=_("for videos: classify one frame every TIME, e.g. 0.5s, 500ms or 2fps "
                          "(default 1s); each row of the output holds the frame's time in "
                          "seconds"))
    p.add_argument("--explain", default=None, metavar="DIR", type=checks.writable_folder,
                   help=_("also write a heat map per image into DIR: where the model looked "
                          "for its class (Grad-CAM), as PNG overlays"))
    p.set_defaults(func=_cmd_predict)

    p = sub.add_parser("export", help=_("Write a standalone model folder (LoRA merged) that "
                                        "loads with transformers alone."))
    p.add_argument("run", type=checks.run_folder, help=_("run folder (runs/<name>)"))
    p.add_argument("--output", required=True, type=checks.new_folder,
                   help=_("folder to create (must be new or empty)"))
    from engine.use.export_formats import FORMATS

    p.add_argument("--format", default=None, choices=list(FORMATS), metavar="FORMAT",
                   help=_("write the run for another runtime, checked in that runtime on the "
                          "run's test images: {choices}. Without it: the merged transformers "
                          "folder (as --format merged)").format(choices=", ".join(FORMATS)))
    p.add_argument("--check-images", default=None, type=checks.existing_folder, metavar="DIR",
                   help=_("compare the export with the run on the pictures in DIR (at most "
                          "256) instead of the run's test or validation images"))
    p.add_argument("--onnx", action="store_true",
                   help=_("also write model.onnx (pixel_values -> probabilities; needs "
                          "`onnx`)"))
    p.add_argument("--triton", action="store_true",
                   help=_("also write model_repository/ for Triton Inference Server (the ONNX "
                          "model, config.pbtxt with dynamic batching, labels.txt); implies "
                          "--onnx"))
    p.set_defaults(func=_cmd_export)
