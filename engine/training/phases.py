"""The phases before the first step: configuration, dataset, model, run folder, inputs.

Each phase is a generator (`x = yield from phase(...)`) that yields the events the user
sees while it works and returns what the next phase needs.
"""
from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import torch

from engine.config import TrainConfig
from engine.data.index import DatasetIndex
from engine.errors import UserError
from engine.events import Event, Log
from engine.hardware import Precision, resolve_device_type, resolve_precision, set_threads
from engine.i18n import _
from engine.training import distributed
from engine.training.progress import with_progress
from engine.training.record import Recorder, dataset_warnings, open_run, run_metadata
from engine.training.resume import Resume, check_resume_config, copy_run


@dataclass
class Setup:
    """The configuration a run goes on with and where it computes."""

    config: TrainConfig  # a resumed run's own configuration, on this machine's hardware
    resume_dir: Path | None
    accelerator: object  # accelerate.Accelerator
    device: torch.device
    rank: int
    world: int
    precision: Precision
    resume: Resume | None = None  # what a resumed run changed (its notes are logged)


@dataclass
class Built:
    """The classifier to train and what it was built from."""

    model: object  # engine.model.classifier.ImageClassifier, on the device
    info: object  # engine.model.classifier.BaseModelInfo
    trainable: int
    total: int


@dataclass
class Inputs:
    """What the steps read: decoded images, embeddings or frozen-block states."""

    data: object  # engine.training.inputs.TrainData
    augmenter: object  # engine.data.augment.Augmenter
    frozen: int  # frozen blocks whose output is cached (0: none)


def prepare(config: TrainConfig, rec: Recorder) -> Setup:
    """1. The configuration is usable, this process knows its place, the hardware is set."""
    problems = config.validate()
    if problems:
        raise UserError(_("The configuration is not usable: {problems}").format(
            problems=" ".join(_("{field}: {problem}").format(field=k, problem=v)
                              for k, v in problems.items())))
    resume_dir = Path(config.resume_from) if config.resume_from else None
    resume = None
    if resume_dir is not None:
        resume = check_resume_config(config, resume_dir)
        config = resume.config
    accelerator = distributed.make_accelerator(resolve_device_type(config.device))
    device = accelerator.device
    rec.main, rec.device = accelerator.is_main_process, str(device)
    if resume is not None and resume.copy_to is not None:
        resume_dir = _continue_in_copy(resume, resume_dir, accelerator)
        config = resume.config = config.replace(resume_from=str(resume_dir))
    precision = resolve_precision(config.precision, device.type)
    set_threads(config.num_threads)
    from accelerate.utils import set_seed

    set_seed(config.seed)  # LoRA init, random head, dropout: identical on every process
    return Setup(config, resume_dir, accelerator, device, accelerator.process_index,
                 accelerator.num_processes, precision, resume)


def _continue_in_copy(resume: Resume, run_dir: Path, accelerator) -> Path:
    """Copy the run to the requested output folder/name (main process) and continue there."""
    target = ""
    if accelerator.is_main_process:
        target = str(copy_run(run_dir, *resume.copy_to))
        resume.notes.append(_("Continuing in a copy, {copy}; {run} stays as it was.").format(
            copy=target, run=run_dir))
    if accelerator.num_processes > 1:
        from accelerate.utils import broadcast_object_list

        target = broadcast_object_list([target], from_process=0)[0]
    return Path(target)


def load_dataset(setup: Setup, dataset: DatasetIndex | None,
                 rec: Recorder) -> Iterator[Event]:
    """2. The dataset index (scanned unless given), its skipped files reported."""
    from engine.training.inputs import load_index

    config = setup.config
    for note in setup.resume.notes if setup.resume else []:  # what the resume changed
        yield rec(Log(level="info", message=note))
    if dataset is None:
        dataset = yield from with_progress("scan", _("Checking the dataset"),
                                           lambda p: load_index(config, setup.resume_dir, p))
    for event in dataset_warnings(dataset.problems):
        yield rec(event)
    if dataset.errors:
        raise UserError(_("The dataset cannot be used for training: {reasons}").format(
            reasons=" ".join(p.reason for p in dataset.errors)))
    return dataset


def load_model(setup: Setup, dataset: DatasetIndex, rec: Recorder) -> Iterator[Event]:
    """3. The base model (downloaded once), LoRA on it and the zero-shot head."""
    from engine.model.classifier import build_classifier, count_parameters
    from engine.model.hub import fetch_model, is_hub_id

    config = setup.config
    if is_hub_id(config.model):  # downloads what is missing; offline, checks the cache
        with setup.accelerator.main_process_first():  # one process downloads, the others wait
            yield from with_progress("download", _("Downloading {model}").format(
                model=config.model),
                                     lambda p: fetch_model(config.model, p))
    yield rec(Log(level="info", message=_("Loading base model {model}").format(
        model=config.model)))
    model, info = build_classifier(
        config.model, dataset.class_names, head_init=config.head_init,
        templates=config.prompt_templates, method=config.method, lora_r=config.lora_r,
        lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=config.target_modules, lora_last_n_blocks=config.lora_last_n_blocks,
        seed=config.seed)
    if config.head_init == "zero-shot" and not model.family.has_text:
        # no text tower (DINOv2): nearest-centroid accuracy at step 0 instead of chance
        setup.config = config = config.replace(head_init="prototype")
        yield rec(Log(level="info", message=_(
            "{family} has no text tower, so the classifier starts from the class prototypes "
            "instead of zero-shot text embeddings.").format(family=model.family.title)))
    elif config.head_init in ("zero-shot", "prototype") and model.no_zero_shot:
        # a text tower without a usable tokenizer: the image tower still trains
        setup.config = config = config.replace(head_init="prototype")
        yield rec(Log(level="warning", message=_(
            "The class names cannot be read as text with {model}: {reason}. The classifier "
            "starts from the class prototypes (mean embedding of each class's training "
            "images) instead of the zero-shot head.").format(model=config.model,
                                                              reason=model.no_zero_shot)))
    if config.init_from:  # a new run from a saved run's model (engine/training/warm_start)
        from engine.training.warm_start import warm_start

        yield rec(warm_start(model, config, dataset.class_names))
    trainable, total = count_parameters(model)  # the probe's tower is frozen: head only
    model.to(setup.device)
    for message in use_compute_format(model, setup):
        yield rec(Log(level="info", message=message))
    yield from use_memory_settings(model, info, setup, len(dataset.split("train")), rec)
    return Built(model, info, trainable, total)


def use_memory_settings(model, info, setup: Setup, num_train: int,
                        rec: Recorder) -> Iterator[Event]:
    """Gradient checkpointing (engine.model.grad_checkpointing), then `batch_size: auto`
    (engine.training.auto_batch) decided for this model on this machine: the decided size
    is the run's (run.json and a resume keep it)."""
    from engine.model.grad_checkpointing import is_on, use_gradient_checkpointing
    from engine.training.auto_batch import choose_batch_size

    config = setup.config
    note = use_gradient_checkpointing(model.vision, config.gradient_checkpointing, config.method)
    if note:
        yield rec(Log(level="info", message=note))
    if config.batch_size == 0:
        size, why = choose_batch_size(model, info, config, setup.device, setup.precision,
                                      num_train, is_on(model.vision))
        if setup.world > 1:  # every process must step the same plan: the smallest choice
            size = int(setup.accelerator.gather(torch.tensor([size], device=setup.device)).min())
        setup.config = config.replace(batch_size=size)
        yield rec(Log(level="info", message=_("Batch size: {why}").format(why=why)))


def use_compute_format(model, setup: Setup) -> list[str]:
    """The attention kernel and frozen-weight format that are fastest here
    (engine.model.compute_format); returns what the log says about them."""
    from engine.model.compute_format import describe_bytes, use_compute_format as apply

    precision = setup.precision
    # gloo's broadcast of the model at the start of a multi-process CPU run is safest in fp32
    hold = not (setup.device.type == "cpu" and setup.world > 1)
    attention, why, saved = apply(model.vision, setup.config.attention, setup.device.type,
                                  precision, hold_weights=hold)
    messages = [_("Attention: {kernel} ({reason}).").format(kernel=attention, reason=why)]
    if saved:
        messages.append(_("Frozen weights held in {precision} ({saved} less memory); LoRA "
                          "weights, the head and the optimiser stay fp32.").format(
            precision=precision.name, saved=describe_bytes(saved)))
    return messages


def open_run_folder(setup: Setup, dataset: DatasetIndex, built: Built,
                    rec: Recorder) -> Iterator[Event]:
    """4. The run folder (the main process writes; every process learns its path)."""
    meta = run_metadata(setup.config, dataset, built.info, setup.precision.name,
                        str(setup.device), setup.world, built.trainable, built.total,
                        _dt.datetime.now().isoformat(timespec="seconds"))
    run_dir = open_run(setup.config, setup.resume_dir, dataset, meta, rec, setup.accelerator)
    if rec.writer is not None and rec.writer.tb_error:
        yield rec(Log(level="warning", message=rec.writer.tb_error))
    return run_dir


def prepare_inputs(setup: Setup, dataset: DatasetIndex, built: Built, control,
                   rec: Recorder) -> Iterator[Event]:
    """5. Every image decoded once; for the probe its frozen embedding, for LoRA on the last
    blocks the frozen blocks' states; then the inputs go to the device when they fit."""
    from engine.data.augment import Augmenter
    from engine.data.mixing import unused_augmentation
    from engine.model.block_cache import frozen_blocks, why_not
    from engine.training.inputs import cache_images, cache_states, embed_images, place_inputs

    config, device, autocast = setup.config, setup.device, setup.precision.autocast
    model, lora = built.model, setup.config.method == "lora"
    augmenter = Augmenter.for_model(built.info, augment=config.augment,
                                    color_jitter=config.color_jitter,
                                    randaugment_ops=config.randaugment_ops,
                                    randaugment_magnitude=config.randaugment_magnitude)
    with setup.accelerator.main_process_first():  # one process fills the disk cache
        data = yield from with_progress(
            "decode", _("Decoding images"),
            lambda p: cache_images(dataset, built.info, config, p,
                                   cancel=lambda: control.stop_requested))
    for event in dataset_warnings(data.failed):
        yield rec(event)
    yield rec(Log(level="info", message=data.summary))
    if len(data.splits["train"]) == 0:
        raise UserError(_("No training image could be read: check that the dataset's files "
                          "are images and still in place."))
    if not lora:
        model.eval()
        data = yield from with_progress(
            "embed", _("Computing image embeddings"),
            lambda p: embed_images(data, model.embed, augmenter, device, autocast,
                                   config.batch_size, p))
    frozen = frozen_blocks(config, model.vision)  # 0 unless LoRA on the last blocks can cache
    if frozen:  # the blocks before the adapted ones: once per image, not once per step
        data = yield from with_progress(
            "frozen", _("Computing the {count} frozen blocks once per image").format(
                count=frozen),
            lambda p: cache_states(data, model.vision, augmenter, frozen, device, autocast,
                                   config, p, cancel=lambda: control.stop_requested))
        rec.on_close(data.close)
        yield rec(Log(level="info", message=data.summary))
    elif lora and config.lora_last_n_blocks > 0 and config.cache_frozen_blocks:
        yield rec(Log(level="info", message=_("The frozen blocks are not cached: "
                                              "{reason}.").format(
            reason=why_not(config, model.vision))))
    unused = unused_augmentation(config, _("image embeddings") if not lora else
                                 _("the states of {count} frozen blocks").format(count=frozen)
                                 if frozen else "")
    if unused:
        yield rec(Log(level="info", message=unused))
    data, placed = place_inputs(data, device)
    if placed:
        yield rec(Log(level="info", message=placed))
    return Inputs(data, augmenter, frozen)
