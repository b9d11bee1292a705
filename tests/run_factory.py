"""Build a realistic run folder without the training loop (for evaluate/predict/export tests).

The folder follows the run-folder contract exactly: run.json + split.json, adapter/ saved
with peft's save_pretrained, head.safetensors from LinearHead.state_for_saving(). The
LoRA weights can be nudged away from their zero init so the adapter really changes the
model, and the head can be fitted in closed form (class centroids of the training
images' embeddings), so accuracies are well above chance on the learnable demo data.
"""
from __future__ import annotations

import datetime as dt
import json
import warnings
from pathlib import Path
from typing import Sequence

import torch
from torch.nn import functional as F


def _embed_train_images(classifier, info, paths: Sequence[str]) -> torch.Tensor:
    from engine.data.augment import Augmenter
    from engine.data.cache import cache_resolution, decode_to_array

    res = cache_resolution(info.image_size)
    images = torch.stack([torch.from_numpy(decode_to_array(p, res, framing=info.framing))
                          for p in paths])
    with torch.no_grad():
        return F.normalize(classifier.embed(Augmenter.for_model(info, augment=False)
                                            .eval_batch(images)).float(), dim=-1)


def _fit_centroid_head(classifier, info, index) -> None:
    train = index.split("train")
    emb = _embed_train_images(classifier, info, [s.path for s in train])
    labels = torch.tensor([s.label for s in train])
    centroids = torch.stack([F.normalize(emb[labels == c].mean(0), dim=0)
                             for c in range(len(index.classes))])
    with torch.no_grad():
        classifier.head.weight.copy_(centroids)
        classifier.head.bias.zero_()
        classifier.head.scale.fill_(30.0)  # sharper than CLIP's 14 for a tiny random model


def _nudge_lora(classifier, seed: int) -> int:
    """Give every LoRA B matrix small random values (peft initialises them to zero)."""
    gen = torch.Generator().manual_seed(seed)
    count = 0
    with torch.no_grad():
        for name, param in classifier.vision.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.2)
                count += 1
    return count


def make_run(run_dir: str | Path, model_dir: str | Path, dataset_dir: str | Path, *,
             method: str = "lora", nudge: bool = True, fit_head: bool = True, seed: int = 0,
             display_names: dict[str, str] | None = None, status: str = "completed") -> Path:
    """Create `run_dir` holding a classifier for `dataset_dir` on the base model `model_dir`."""
    from safetensors.torch import save_file

    from engine.config import TrainConfig
    from engine.data.index import scan_dataset
    from engine.model.classifier import build_classifier
    from engine.runs import library_versions, write_json_atomic

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=False)
    index = scan_dataset(dataset_dir, seed=seed)
    if display_names:
        index = index.with_display_names(display_names)
    with warnings.catch_warnings():  # peft's note about a deprecated transformers property
        warnings.simplefilter("ignore", FutureWarning)
        classifier, info = build_classifier(str(model_dir), index.class_names, method=method,
                                            lora_r=4, lora_alpha=8, lora_dropout=0.0, seed=seed)
    if method == "lora" and nudge:
        assert _nudge_lora(classifier, seed) > 0
    classifier.eval()
    if fit_head:
        _fit_centroid_head(classifier, info, index)
    if method == "lora":
        classifier.vision.save_pretrained(str(run_dir / "adapter"), safe_serialization=True)
    save_file(classifier.head.state_for_saving(), str(run_dir / "head.safetensors"))
    index.save_split(run_dir / "split.json")
    config = TrainConfig(data_dir=str(dataset_dir), model=str(model_dir), method=method,
                         lora_r=4, lora_alpha=8, lora_dropout=0.0, output_dir=str(run_dir.parent),
                         run_name=run_dir.name)
    write_json_atomic(run_dir / "run.json", {
        "format_version": 1, "name": run_dir.name,
        "created": dt.datetime.now().isoformat(timespec="seconds"), "status": status,
        "config": config.to_dict(), "base_model": info.to_dict(), "method": method,
        "classes": [{"folder": c.folder, "display_name": c.display_name} for c in index.classes],
        "class_names": index.class_names,
        "dataset": {"root": index.root, "layout": index.layout,
                    "split_source": index.split_source, "counts": index.counts()},
        "best": {"val_accuracy": None, "epoch": 0, "step": 0}, "zero_shot_val_accuracy": None,
        "test_accuracy": None, "elapsed_s": 0.0, "versions": library_versions(), "error": "",
    })
    return run_dir


def read_json(path: str | Path):
    return json.loads(Path(path).read_text(encoding="utf-8"))


_BUILT: dict[tuple, Path] = {}


def shared_run(tmp_path_factory, model_dir, dataset_dir, **options) -> Path:
    """make_run once per session for these arguments (test modules share it; don't modify it)."""
    key = (str(model_dir), str(dataset_dir), tuple(sorted(options.items())))
    if key not in _BUILT:
        _BUILT[key] = make_run(tmp_path_factory.mktemp("run") / "run", model_dir, dataset_dir,
                               **options)
    return _BUILT[key]


def copy_run(run_dir: Path, target: Path) -> Path:
    """A private copy of a run folder, for tests that write into it or damage it."""
    import shutil

    shutil.copytree(run_dir, target)
    return target


def run_cli(argv: list[str]) -> int:
    """`python -m engine ARGV` in-process (engine.cli.main.main can be called more than once);
    its exit code, also when argparse ends invalid input with SystemExit(2)."""
    from engine.cli import main as cli

    try:
        return cli.main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def train_short(tmp_path_factory, model_dir, data_dir, **overrides) -> list:
    """The events of a short REAL training run (3 epochs) with its own home and cache
    folders: a trained head, calibrated, for the tests that need one (heat maps of an
    untrained random head are often blank)."""
    import pytest

    from engine.config import TrainConfig
    from engine.training.loop import train

    home = tmp_path_factory.mktemp("home")
    settings = dict(data_dir=str(data_dir), model=str(model_dir),
                    output_dir=str(tmp_path_factory.mktemp("runs")), epochs=3, batch_size=16,
                    lr=5e-3, head_lr=5e-2, device="cpu", early_stop_patience=0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LORA_STUDIO_HOME", str(home))
        mp.setenv("LORA_STUDIO_CACHE_DIR", str(home / "cache"))
        events = list(train(TrainConfig(**{**settings, **overrides})))
    assert events[-1].status == "completed", events[-1].error
    return events


def stopped_run(tmp_path_factory, model_dir, data_dir) -> Path:
    """A REAL run stopped after its first step, with its own home and cache folders:
    checkpoints/last holds everything a resume reads (tests copy it before changing it)."""
    import pytest

    from engine.config import TrainConfig
    from engine.events import Step
    from engine.training.control import TrainControl
    from engine.training.loop import train

    out = tmp_path_factory.mktemp("stopped")
    config = TrainConfig(data_dir=str(data_dir), model=str(model_dir), output_dir=str(out),
                         run_name="stopped", epochs=2, batch_size=16, precision="fp32",
                         num_threads=1, early_stop_patience=0, seed=0)
    control = TrainControl()
    home = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LORA_STUDIO_HOME", str(home))
        mp.setenv("LORA_STUDIO_CACHE_DIR", str(home / "cache"))
        events = []
        for event in train(config, control):
            events.append(event)
            if isinstance(event, Step) and event.step == 1:
                control.stop()
    assert events[-1].status == "stopped", events[-1]
    return out / "stopped"
