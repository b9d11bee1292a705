"""The training loop: a generator of events, from the dataset scan to the final test score.

    for event in train(config, control):
        ...  # Progress / Log / RunStarted / Step / Evaluation / CheckpointSaved / ...

It always ends with exactly one RunFinished (completed, stopped or failed) and never
raises for a failed run: whatever went wrong becomes RunFinished.error in plain words.
The same code runs on one CPU, one GPU, or several processes started by torchrun /
accelerate launch (DDP through accelerate); only the main process writes the run folder.
"""
from __future__ import annotations

import contextlib
import datetime as _dt
import traceback
from pathlib import Path
from typing import Iterator

import torch
from torch.nn import functional as F

from engine import checkpoint as ckpt
from engine.block_cache import SuffixClassifier, frozen_blocks, why_not
from engine.cache import CacheCancelled
from engine.config import TrainConfig
from engine.control import TrainControl
from engine.data import DatasetIndex
from engine.errors import UserError
from engine.events import CheckpointSaved, EarlyStopped, Evaluation, Event, Log, RunStarted
from engine.hardware import describe_device, resolve_device_type, resolve_precision, set_threads
from engine.train_failures import describe_failure
from engine.train_helpers import (batch_generator, epoch_order, evaluate, lr_factor,
                                  make_accelerator, make_plan, rank_batch, with_progress)
from engine.train_run import (Recorder, StepMeter, Tracker, dataset_warnings, open_run,
                              resume_config, run_metadata)

LOG_POINTS = 500  # at most about this many Step events per run (plots stay light)


def train(config: TrainConfig, control: TrainControl | None = None, *,
          dataset: DatasetIndex | None = None) -> Iterator[Event]:
    """Train a classifier as `config` says, yielding events; see the module docstring.

    `dataset` (optional) is an already scanned index, e.g. the one the GUI showed with the
    user's display names; without it, config.data_dir is scanned.
    """
    rec = Recorder()
    try:
        yield from _train(config, control or TrainControl(), dataset, rec)
    except CacheCancelled:  # stopped while images were being decoded: nothing trained yet
        yield rec(Log(level="info", message="Stopped before training began."))
        yield rec.finish("stopped")
    except Exception as exc:  # every failure ends the run in words, never as a traceback
        if not isinstance(exc, UserError):  # the details, for a bug report
            yield rec(Log(level="error", message="".join(traceback.format_exception(exc))[-4000:]))
        yield rec.finish("failed", error=describe_failure(exc, config, rec.device))
    finally:
        rec.close()


def _train(config: TrainConfig, control: TrainControl, dataset: DatasetIndex | None,
           rec: Recorder) -> Iterator[Event]:
    # --- 1. configuration, processes, hardware ----------------------------------------
    problems = config.validate()
    if problems:
        raise UserError("The configuration is not usable: " +
                        " ".join(f"{k}: {v}" for k, v in problems.items()))
    resume_dir = Path(config.resume_from) if config.resume_from else None
    if resume_dir is not None:
        config = resume_config(config, resume_dir)
    accelerator = make_accelerator(resolve_device_type(config.device))
    device, rank, world = accelerator.device, accelerator.process_index, accelerator.num_processes
    rec.main, rec.device = accelerator.is_main_process, str(device)
    precision = resolve_precision(config.precision, device.type)
    set_threads(config.num_threads)
    from accelerate.utils import set_seed

    set_seed(config.seed)  # LoRA init, random head, dropout: identical on every process

    # --- 2. dataset --------------------------------------------------------------------
    from engine.train_data import (cache_images, cache_states, embed_images, load_index,
                                   place_inputs)

    if dataset is None:
        dataset = yield from with_progress("scan", "Checking the dataset",
                                           lambda p: load_index(config, resume_dir, p))
    for event in dataset_warnings(dataset.problems):
        yield rec(event)
    if dataset.errors:
        raise UserError("The dataset cannot be used for training: " +
                        " ".join(p.reason for p in dataset.errors))

    # --- 3. base model + LoRA + zero-shot head ------------------------------------------
    from engine.hub import download_model, needs_download
    from engine.model import build_classifier, count_parameters

    if needs_download(config.model):
        with accelerator.main_process_first():  # one process downloads, the others wait
            yield from with_progress("download", f"Downloading {config.model}",
                                     lambda p: download_model(config.model, p))
    yield rec(Log(level="info", message=f"Loading base model {config.model}"))
    model, info = build_classifier(
        config.model, dataset.class_names, head_init=config.head_init,
        templates=config.prompt_templates, method=config.method, lora_r=config.lora_r,
        lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=config.target_modules, lora_last_n_blocks=config.lora_last_n_blocks,
        seed=config.seed)
    lora = config.method == "lora"
    trainable, total = count_parameters(model)  # the probe's tower is frozen: head only
    model.to(device)

    # --- 4. the run folder (main process writes; every process learns its path) ---------
    meta = run_metadata(config, dataset, info, precision.name, str(device), world,
                        trainable, total, _dt.datetime.now().isoformat(timespec="seconds"))
    run_dir = open_run(config, resume_dir, dataset, meta, rec, accelerator)
    if rec.writer is not None and rec.writer.tb_error:
        yield rec(Log(level="warning", message=rec.writer.tb_error))

    # --- 5. decoded images (each decoded once), or frozen embeddings for the probe ------
    from engine.augment import Augmenter

    augmenter = Augmenter.for_model(info, augment=config.augment, color_jitter=config.color_jitter)
    with accelerator.main_process_first():  # one process fills the disk cache, others reuse it
        data = yield from with_progress(
            "decode", "Decoding images",
            lambda p: cache_images(dataset, info.image_size, config, p,
                                   cancel=lambda: control.stop_requested))
    for event in dataset_warnings(data.failed):
        yield rec(event)
    yield rec(Log(level="info", message=data.summary))
    if len(data.splits["train"]) == 0:
        raise UserError("No training image could be read: check that the dataset's files "
                        "are images and still in place.")
    if not lora:
        model.eval()
        data = yield from with_progress(
            "embed", "Computing image embeddings",
            lambda p: embed_images(data, model.embed, augmenter, device, precision.autocast,
                                   config.batch_size, p))
    frozen = frozen_blocks(config, model.vision)  # 0 unless LoRA on the last blocks can cache
    if frozen:  # the blocks before the adapted ones: once per image, not once per step
        data = yield from with_progress(
            "frozen", f"Computing the {frozen} frozen blocks once per image",
            lambda p: cache_states(data, model.vision, augmenter, frozen, device,
                                   precision.autocast, config, p,
                                   cancel=lambda: control.stop_requested))
        rec.on_close(data.close)
        yield rec(Log(level="info", message=data.summary))
    elif lora and config.lora_last_n_blocks > 0 and config.cache_frozen_blocks:
        yield rec(Log(level="info", message="The frozen blocks are not cached: "
                                            + why_not(config, model.vision) + "."))
    data, placed = place_inputs(data, device)
    if placed:
        yield rec(Log(level="info", message=placed))

    # --- 6. optimizer, LR schedule, DDP ---------------------------------------------------
    # `model` stays the plain classifier (evaluation, checkpoints); `net` is what trains,
    # DDP-wrapped when launched with several processes.
    suffix = SuffixClassifier(model, frozen) if frozen else None  # cached states -> logits
    net = accelerator.prepare_model(suffix or (model if lora else model.head))
    params = [p for p in model.parameters() if p.requires_grad]
    head = set(model.head.parameters())
    groups = [  # LoRA at lr, the head at head_lr; biases are not decayed
        {"params": [p for p in params if p not in head], "lr": config.lr},
        {"params": [model.head.weight], "lr": config.head_lr},
        {"params": [model.head.bias], "lr": config.head_lr, "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW([g for g in groups if g["params"]],
                                  weight_decay=config.weight_decay)
    n_train = len(data.splits["train"])
    plan = make_plan(n_train, config.batch_size, world, config.grad_accum, config.epochs,
                     config.max_steps, config.warmup_ratio)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: lr_factor(s, plan.total_steps, plan.warmup_steps))
    scaler = torch.amp.GradScaler(device.type, enabled=precision.needs_grad_scaler)
    log_every = max(1, plan.total_steps // LOG_POINTS)

    def train_inputs(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
        if not lora or suffix is not None:  # embeddings or frozen-block states: as they are
            return x.to(device, non_blocking=True)
        return augmenter.train_batch(x.to(device, non_blocking=True), gen)

    def eval_logits(x: torch.Tensor) -> torch.Tensor:
        if suffix is not None:
            return suffix(x)
        return model(augmenter.eval_batch(x)) if lora else model.head(x)

    def validate(split: str = "val"):
        was_training = net.training
        net.eval()
        inputs, labels = data.split_inputs(split)
        result = evaluate(eval_logits, inputs, labels, dataset.class_names, config.batch_size,
                          device, precision.autocast, accelerator.reduce, rank, world)
        net.train(was_training)
        return result

    # --- 7. start: resume from checkpoints/last, or measure the zero-shot baseline ------
    tracker = Tracker(patience=config.early_stop_patience, steps_per_epoch=plan.steps_per_epoch)
    if resume_dir is not None:
        saved = ckpt.load_checkpoint(ckpt.resolve_dir(run_dir / "checkpoints" / "last"), model,
                                     optimizer, scheduler, scaler)
        tracker.restore(saved)
        if saved.get("steps_per_epoch", plan.steps_per_epoch) != plan.steps_per_epoch:
            yield rec(Log(level="warning", message=(
                "This run continues with a different number of processes or images than it "
                "started with, so its data order differs from an uninterrupted run.")))
        yield rec(Log(level="info", message=f"Resumed from step {tracker.step} (epoch "
                                            f"{tracker.step // plan.steps_per_epoch + 1})."))
    rec.started(run_dir, tracker)
    yield rec(RunStarted(
        run_dir=str(run_dir), run_name=run_dir.name, classes=dataset.class_names,
        total_steps=plan.total_steps, steps_per_epoch=plan.steps_per_epoch, epochs=plan.epochs,
        device=describe_device(device) + (f" x {world} processes" if world > 1 else ""),
        precision=precision.name, trainable_params=trainable, total_params=total,
        num_train=n_train, num_val=len(data.splits["val"]), num_test=len(data.splits["test"]),
        start_step=tracker.step))
    has_val = len(data.splits["val"]) > 0
    if not has_val:
        yield rec(Log(level="warning", message="There is no validation split: the last epoch's "
                                               "weights are kept and early stopping is off."))
    if resume_dir is None and has_val:
        result = validate()
        tracker.zero_shot = result.accuracy
        rec.update(zero_shot_val_accuracy=result.accuracy)
        yield rec(Evaluation(step=0, epoch=0, split="val", loss=result.loss,
                             accuracy=result.accuracy, per_class_accuracy=result.per_class,
                             zero_shot=config.head_init == "zero-shot"))

    # --- 8. the loop ------------------------------------------------------------------------
    net.train()
    meter = StepMeter(world)
    status = "completed"
    epoch = tracker.step // plan.steps_per_epoch
    while epoch < plan.epochs and tracker.step < plan.total_steps:
        order = epoch_order(n_train, config.seed, epoch)
        micro = plan.micro_start(tracker.step - epoch * plan.steps_per_epoch, config.grad_accum)
        while micro < plan.micro_per_epoch and tracker.step < plan.total_steps:
            if control.paused:  # pause between steps; the clock stops with it
                yield rec(Log(level="info", message=f"Paused at step {tracker.step}."))
                control.wait_while_paused()
                meter.restart_clock()
                if not control.stop_requested:
                    yield rec(Log(level="info", message="Resumed."))
            if _stop_requested(control, accelerator, world):
                status = "stopped"
                break
            group = range(micro, min(micro + config.grad_accum, plan.micro_per_epoch))
            for m in group:  # gradient accumulation: sum len(group) micro-batches, then update
                x, y = data.batch("train", rank_batch(order, m, config.batch_size, rank, world))
                y = y.to(device, non_blocking=True)
                sync = m == group[-1]  # DDP all-reduces gradients only on the last one
                with contextlib.nullcontext() if sync else accelerator.no_sync(net):
                    with precision.autocast():
                        logits = net(train_inputs(x, batch_generator(config.seed, epoch, m, rank,
                                                                      device)))
                    loss = F.cross_entropy(logits.float(), y)
                    scaler.scale(loss / len(group)).backward()
                meter.add(loss.detach(), logits.detach(), y)
            if config.grad_clip > 0:
                scaler.unscale_(optimizer)
                torch.nn.utils.clip_grad_norm_(params, config.grad_clip)
            scaler.step(optimizer)
            scaler.update()
            optimizer.zero_grad(set_to_none=True)
            scheduler.step()
            tracker.step += 1
            micro = group[-1] + 1
            if tracker.step % log_every == 0 or micro == plan.micro_per_epoch:
                yield rec(meter.event(tracker.step, epoch + micro / plan.micro_per_epoch,
                                      scheduler.get_last_lr()[0], plan.total_steps))
        if status != "completed":
            break
        epoch += 1
        tracker.epoch = epoch
        # --- end of epoch: validate, keep the best, save the resume point, maybe stop early
        if has_val:
            result = validate()
            is_best = tracker.record(result.accuracy, epoch,
                                     warming_up=tracker.step <= plan.warmup_steps)
            yield rec(Evaluation(step=tracker.step, epoch=epoch, split="val", loss=result.loss,
                                 accuracy=result.accuracy, per_class_accuracy=result.per_class,
                                 is_best=is_best))
            if is_best and rec.main:
                best = ckpt.save_weights(run_dir / "checkpoints" / "best", model)
                ckpt.publish_weights(best, run_dir)  # the run folder always holds the best model
                rec.update(best=tracker.best_dict())
                yield rec(CheckpointSaved(step=tracker.step, epoch=epoch, path=str(best),
                                          label="best"))
        yield from _save_last(rec, run_dir, model, optimizer, scheduler, scaler, tracker, epoch)
        meter.restart_clock()
        if tracker.should_stop_early():
            yield rec(EarlyStopped(epoch=epoch, best_epoch=tracker.best_epoch,
                                   patience=config.early_stop_patience))
            break

    # --- 9. finish: keep the resume point, publish the model, score the test split -------
    if status == "stopped":
        yield from _save_last(rec, run_dir, model, optimizer, scheduler, scaler, tracker,
                              tracker.step // plan.steps_per_epoch)
    if tracker.best_epoch is None and rec.main:  # nothing validated yet: keep what we have
        final = ckpt.save_weights(run_dir / "checkpoints" / "final", model)
        ckpt.publish_weights(final, run_dir)
        yield rec(CheckpointSaved(step=tracker.step, epoch=tracker.epoch, path=str(run_dir),
                                  label="final"))
    test_accuracy = None
    if status == "completed" and len(data.splits["test"]) > 0:
        accelerator.wait_for_everyone()  # the main process may still be writing best/
        if tracker.best_epoch is not None:  # score the model the run folder holds: the best
            ckpt.load_weights(run_dir / "checkpoints" / "best", model)
        result = validate("test")
        test_accuracy = result.accuracy
        yield rec(Evaluation(step=tracker.step, epoch=tracker.epoch, split="test",
                             loss=result.loss, accuracy=result.accuracy,
                             per_class_accuracy=result.per_class))
        if rec.main:
            yield from _full_report(rec, run_dir)
    yield rec.finish(status, test_accuracy=test_accuracy)


def _stop_requested(control: TrainControl, accelerator, world: int) -> bool:
    """Whether to stop now; with several processes they all agree (any one asked)."""
    if world == 1:
        return control.stop_requested
    flag = torch.tensor([1.0 if control.stop_requested else 0.0], device=accelerator.device)
    return bool(accelerator.reduce(flag, reduction="sum").item() > 0)


def _save_last(rec: Recorder, run_dir: Path, model, optimizer, scheduler, scaler,
               tracker: Tracker, epoch: int) -> Iterator[Event]:
    """Write checkpoints/last (atomically), the point a resumed run continues from."""
    if not rec.main:
        return
    path = ckpt.save_checkpoint(run_dir / "checkpoints" / "last", model, optimizer, scheduler,
                                tracker.state(rec.elapsed()),
                                scaler if scaler.is_enabled() else None)
    yield rec(CheckpointSaved(step=tracker.step, epoch=epoch, path=str(path), label="last"))


def _full_report(rec: Recorder, run_dir: Path) -> Iterator[Event]:
    """The evaluation report (report/), when engine.evaluate is installed; never fatal."""
    try:
        from engine.evaluate import evaluate_run
    except ImportError:
        return
    try:
        yield from with_progress("evaluate", "Writing the test report",
                                 lambda p: evaluate_run(run_dir, split="test", progress=p))
        yield rec(Log(level="info", message=f"Test report written to {run_dir / 'report'}"))
    except Exception as exc:  # the model is saved; a report problem must not fail the run
        yield rec(Log(level="warning", message=f"The test report could not be written: {exc}"))
