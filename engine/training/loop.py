"""The training loop: a generator of events, from the dataset scan to the final test score.

    for event in train(config, control):
        ...  # Progress / Log / RunStarted / Step / Evaluation / CheckpointSaved / ...

It always ends with exactly one RunFinished (completed, stopped or failed) and never
raises for a failed run: whatever went wrong becomes RunFinished.error in plain words.
The same code runs on one CPU, one GPU, or several processes started by torchrun /
accelerate launch (DDP through accelerate); only the main process writes the run folder.

A run is a sequence of phases, read top to bottom in `_train`: the first five
(engine.training.phases) prepare, the Learner (engine.training.learner) holds what
trains, and the last three (here) start, loop over the epochs and finish.
"""
from __future__ import annotations

import traceback
from pathlib import Path
from typing import Iterator

from engine.config import TrainConfig
from engine.data.cache import CacheCancelled
from engine.data.index import DatasetIndex
from engine.errors import UserError
from engine.events import CheckpointSaved, EarlyStopped, Evaluation, Event, Log, RunStarted
from engine.hardware import describe_device
from engine.libraries import ready
from engine.i18n import _
from engine.model import checkpoint as ckpt
from engine.training.control import TrainControl
from engine.training.distributed import stop_requested
from engine.training.failures import describe_failure
from engine.training.learner import Learner
from engine.training.phases import (load_dataset, load_model, open_run_folder, prepare,
                                    prepare_inputs)
from engine.training.progress import with_progress
from engine.training.record import Recorder, StepMeter, Tracker, kept_start_note
from engine.training.resume import follow_new_schedule


def train(config: TrainConfig, control: TrainControl | None = None, *,
          dataset: DatasetIndex | None = None) -> Iterator[Event]:
    """Train a classifier as `config` says, yielding events; see the module docstring.

    `dataset` (optional) is an already scanned index, e.g. the one the GUI showed with the
    user's display names; without it, config.data_dir is scanned.
    """
    ready()  # every library's first import done, in one thread at a time (engine/libraries.py)
    rec = Recorder()
    try:
        yield from _train(config, control or TrainControl(), dataset, rec)
    except CacheCancelled:  # stopped while images were being decoded: nothing trained yet
        yield rec(Log(level="info", message=_("Stopped before training began.")))
        yield rec.finish("stopped")
    except Exception as exc:  # every failure ends the run in words, never as a traceback
        if not isinstance(exc, UserError):  # the details, for a bug report
            yield rec(Log(level="error", message="".join(traceback.format_exception(exc))[-4000:]))
        yield rec.finish("failed", error=describe_failure(exc, config, rec.device),
                         invalid_input=isinstance(exc, UserError))
    finally:
        rec.close()


def _train(config: TrainConfig, control: TrainControl, dataset: DatasetIndex | None,
           rec: Recorder) -> Iterator[Event]:
    setup = prepare(config, rec)                                           # 1. hardware
    dataset = yield from load_dataset(setup, dataset, rec)                 # 2. dataset
    built = yield from load_model(setup, dataset, rec)                     # 3. model
    run_dir = yield from open_run_folder(setup, dataset, built, rec)       # 4. run folder
    inputs = yield from prepare_inputs(setup, dataset, built, control, rec)  # 5. inputs
    learner = Learner(setup, dataset, built, inputs)                       # 6. optimiser
    if setup.config.head_init == "prototype" and setup.resume_dir is None and \
            not setup.config.init_from:
        yield from prototype_head(learner, rec)                            # (its head)
    if setup.config.compile:                                               # (optional)
        yield from compile_net(learner, rec)
    tracker = yield from start(learner, built, run_dir, rec)               # 7. start
    status = yield from run_epochs(learner, tracker, control, run_dir, rec)  # 8. the loop
    yield from finish(learner, tracker, status, run_dir, rec)              # 9. finish


def prototype_head(learner: Learner, rec: Recorder) -> Iterator[Event]:
    """Start the head from each class's mean training-image embedding (nearest centroid),
    and say how it compares with the zero-shot head at step 0."""
    import torch

    from engine.model.classifier import class_prototypes

    head, names = learner.model.head, learner.dataset.class_names
    embeddings, labels = learner.embeddings("train")
    prototypes, present = class_prototypes(embeddings, labels, len(names))
    zero_shot = head.weight.detach().clone()
    with torch.no_grad():
        head.weight[present] = prototypes[present].to(head.weight)
        head.bias.zero_()
    missing = [n for n, p in zip(names, present.tolist()) if not p]
    note = (_(" {classes} had no training images and keep their zero-shot row.").format(
        classes=_(", ").join(missing)) if missing else "")
    if learner.has_val and learner.model.no_zero_shot:  # no text head to compare with
        note = _(" Step 0 on the validation images: {proto:.1%} (nearest class "
                 "centroid).").format(proto=learner.validate().accuracy) + note
    elif learner.has_val:
        proto = learner.validate().accuracy
        chosen = head.weight.detach().clone()
        with torch.no_grad():
            head.weight.copy_(zero_shot)
        zero = learner.validate().accuracy
        with torch.no_grad():
            head.weight.copy_(chosen)
        note = _(" Step 0 on the validation images: class-prototype head {proto:.1%}, "
                 "zero-shot head {zero:.1%}.").format(proto=proto, zero=zero) + note
    yield rec(Log(level="info", message=_(
        "The classifier starts from the class prototypes (mean embedding of each class's "
        "training images).{note}").format(note=note)))


def compile_net(learner: Learner, rec: Recorder) -> Iterator[Event]:
    """torch.compile, shown as its own progress phase; a failure only costs the speed-up."""
    import time

    began = time.perf_counter()
    why_not = yield from with_progress("compile", _("Compiling the model (about a minute)"),
                                       learner.compile)
    if why_not:
        yield rec(Log(level="warning", message=_(
            "The model could not be compiled, so training goes on without it: {reason}").format(
            reason=why_not)))
    else:
        yield rec(Log(level="info", message=_("Compiled the model in {seconds:.0f} s.").format(
            seconds=time.perf_counter() - began)))


def start(learner: Learner, built, run_dir: Path, rec: Recorder) -> Iterator[Event]:
    """7. Resume from checkpoints/last, or measure the zero-shot baseline (step 0)."""
    setup, config, plan, data = learner.setup, learner.config, learner.plan, learner.data
    tracker = Tracker(patience=config.early_stop_patience, steps_per_epoch=plan.steps_per_epoch)
    if setup.resume_dir is not None:
        saved = ckpt.load_checkpoint(ckpt.resolve_dir(run_dir / "checkpoints" / "last"),
                                     learner.model, learner.optimizer, learner.scheduler,
                                     learner.scaler)
        tracker.restore(saved)
        if saved.get("steps_per_epoch", plan.steps_per_epoch) != plan.steps_per_epoch:
            yield rec(Log(level="warning", message=_(
                "This run continues with a different number of processes or images than it "
                "started with, so its data order differs from an uninterrupted run.")))
        yield rec(Log(level="info", message=_("Resumed from step {step} (epoch {epoch}).").format(
            step=tracker.step, epoch=tracker.step // plan.steps_per_epoch + 1)))
        if setup.resume is not None and setup.resume.length_changed():
            yield rec(follow_new_schedule(learner, setup.resume.previous, tracker.step))
    rec.started(run_dir, tracker)
    world = setup.world
    yield rec(RunStarted(
        run_dir=str(run_dir), run_name=run_dir.name, classes=learner.dataset.class_names,
        total_steps=plan.total_steps, steps_per_epoch=plan.steps_per_epoch, epochs=plan.epochs,
        device=describe_device(setup.device) + (
            _(" x {count} processes").format(count=world) if world > 1 else ""),
        precision=setup.precision.name, trainable_params=built.trainable,
        total_params=built.total, num_train=learner.n_train, num_val=len(data.splits["val"]),
        num_test=len(data.splits["test"]), start_step=tracker.step))
    if not learner.has_val:
        yield rec(Log(level="warning", message=_("There is no validation split: the last "
                                                 "epoch's weights are kept and early stopping "
                                                 "is off.")))
    if learner.balance_note:
        yield rec(Log(level="info", message=learner.balance_note))
    rec.update(class_balance=learner.balance_record)
    if setup.resume_dir is None:  # per-class recall of the starting model, for the report
        recall, result = start_recall(learner)
        rec.update(start_recall=recall)
    if setup.resume_dir is None and learner.has_val:
        tracker.zero_shot = result.accuracy
        rec.update(zero_shot_val_accuracy=result.accuracy)
        # step 0 is a candidate for the best model: the adapter is still a no-op (LoRA B is
        # zero), so a run whose every epoch scores lower keeps the model it started from
        is_best = tracker.record(result.accuracy, 0)
        yield rec(Evaluation(step=0, epoch=0, split="val", loss=result.loss,
                             accuracy=result.accuracy, per_class_accuracy=result.per_class,
                             zero_shot=config.head_init == "zero-shot", is_best=is_best))
        if is_best:
            yield from save_best(learner, tracker, 0, run_dir, rec)
    return tracker


def start_recall(learner: Learner) -> tuple[dict, object]:
    """({split: {class: recall}} of the model before training on the val and test splits,
    the val EvalResult or None): the report shows the recall beside the final one (did
    balancing lift the small classes?); the val result is also step 0's evaluation."""
    recall, val = {}, None
    for split in ("val", "test"):
        if len(learner.data.splits[split]) > 0:
            result = learner.validate(split)
            recall[split] = result.per_class
            val = result if split == "val" else val
    return recall, val


def run_epochs(learner: Learner, tracker: Tracker, control: TrainControl, run_dir: Path,
               rec: Recorder) -> Iterator[Event]:
    """8. Epoch after epoch of optimiser updates, each epoch ended by end_epoch.

    Returns "completed", or "stopped" when the user asked to stop between two updates.
    """
    setup, config, plan = learner.setup, learner.config, learner.plan
    learner.net.train()
    meter = StepMeter(setup.world)
    epoch = tracker.step // plan.steps_per_epoch
    while epoch < plan.epochs and tracker.step < plan.total_steps:
        order = learner.epoch_order(epoch)  # a permutation, or class_balance's draw
        micro = plan.micro_start(tracker.step - epoch * plan.steps_per_epoch, config.grad_accum)
        while micro < plan.micro_per_epoch and tracker.step < plan.total_steps:
            if control.paused:  # pause between steps; the clock stops with it
                yield rec(Log(level="info", message=_("Paused at step {step}.").format(
                    step=tracker.step)))
                control.wait_while_paused()
                meter.restart_clock()
                if not control.stop_requested:
                    yield rec(Log(level="info", message=_("Resumed.")))
            if stop_requested(control, setup.accelerator, setup.world):
                return "stopped"
            micro = learner.update(order, epoch, micro, meter)
            for note in learner.memory.take_notes():  # out of memory: went on at half batch
                yield rec(Log(level="warning", message=note))
            tracker.step += 1
            if tracker.step % learner.log_every == 0 or micro == plan.micro_per_epoch:
                yield rec(meter.event(tracker.step, epoch + micro / plan.micro_per_epoch,
                                      learner.scheduler.get_last_lr()[0], plan.total_steps))
        epoch += 1
        tracker.epoch = epoch
        yield from end_epoch(learner, tracker, epoch, run_dir, rec)
        meter.restart_clock()
        # an early stop is one that ends the run before its planned end: after the last
        # planned epoch the run simply completes, whatever the patience count says
        if tracker.should_stop_early() and epoch < plan.epochs and \
                tracker.step < plan.total_steps:
            yield rec(EarlyStopped(epoch=epoch, best_epoch=tracker.best_epoch,
                                   patience=config.early_stop_patience))
            break
    return "completed"


def end_epoch(learner: Learner, tracker: Tracker, epoch: int, run_dir: Path,
              rec: Recorder) -> Iterator[Event]:
    """Validate, keep the best model in the run folder, save the resume point."""
    if learner.has_val:
        result = learner.validate()
        is_best = tracker.record(result.accuracy, epoch,
                                 warming_up=tracker.step <= learner.plan.warmup_steps)
        yield rec(Evaluation(step=tracker.step, epoch=epoch, split="val", loss=result.loss,
                             accuracy=result.accuracy, per_class_accuracy=result.per_class,
                             is_best=is_best))
        if is_best:
            yield from save_best(learner, tracker, epoch, run_dir, rec)
    yield from save_last(learner, tracker, epoch, run_dir, rec)


def save_best(learner: Learner, tracker: Tracker, epoch: int, run_dir: Path,
              rec: Recorder) -> Iterator[Event]:
    """Write checkpoints/best and publish it: the run folder always holds the best model."""
    if not rec.main:
        return
    best = ckpt.save_weights(run_dir / "checkpoints" / "best", learner.model)
    ckpt.publish_weights(best, run_dir)
    rec.update(best=tracker.best_dict())
    yield rec(CheckpointSaved(step=tracker.step, epoch=epoch, path=str(best), label="best"))


def finish(learner: Learner, tracker: Tracker, status: str, run_dir: Path,
           rec: Recorder) -> Iterator[Event]:
    """9. Keep the resume point, publish the model, score the test split, end the run."""
    model = learner.model
    if status == "stopped":
        yield from save_last(learner, tracker, tracker.step // learner.plan.steps_per_epoch,
                             run_dir, rec)
    if tracker.best_epoch is None and rec.main:  # nothing validated yet: keep what we have
        final = ckpt.save_weights(run_dir / "checkpoints" / "final", model)
        ckpt.publish_weights(final, run_dir)
        yield rec(CheckpointSaved(step=tracker.step, epoch=tracker.epoch, path=str(run_dir),
                                  label="final"))
    kept = kept_start_note(tracker)  # no epoch beat step 0: say the folder holds the start
    if kept is not None:
        yield rec(kept)
    test_accuracy = None
    if status == "completed" and tracker.best_epoch is not None:
        learner.setup.accelerator.wait_for_everyone()  # the main process may still write best/
        ckpt.load_weights(run_dir / "checkpoints" / "best", model)  # the model the folder holds
        yield from calibrate(learner, run_dir, rec)
    if status == "completed" and len(learner.data.splits["test"]) > 0:
        result = learner.validate("test")
        test_accuracy = result.accuracy
        yield rec(Evaluation(step=tracker.step, epoch=tracker.epoch, split="test",
                             loss=result.loss, accuracy=result.accuracy,
                             per_class_accuracy=result.per_class))
        if rec.main:
            yield from _full_report(learner, rec, run_dir)
    yield rec.finish(status, test_accuracy=test_accuracy)


def calibrate(learner: Learner, run_dir: Path, rec: Recorder) -> Iterator[Event]:
    """Temperature scaling of the best model on the validation split, kept only where it
    helps on held-out images (engine.use.calibration): its probabilities then say how often
    it is right. Saved with the head; run.json records what happened, and the log says it."""
    from engine.use.calibration import calibration_summary, describe

    # from the raw logits: a continued run's best/ may hold an earlier run's temperature
    learner.model.head.temperature.fill_(1.0)
    logits, labels = learner.logits("val")
    summary = calibration_summary(logits, labels)
    learner.model.head.temperature.fill_(summary["temperature"])
    if rec.main:  # saved either way: the folder's head holds the temperature run.json states
        best = ckpt.save_weights(run_dir / "checkpoints" / "best", learner.model)
        ckpt.publish_weights(best, run_dir)
        rec.update(calibration=summary)
    yield rec(Log(level="info", message=describe(summary)))


def save_last(learner: Learner, tracker: Tracker, epoch: int, run_dir: Path,
              rec: Recorder) -> Iterator[Event]:
    """Write checkpoints/last (atomically), the point a resumed run continues from."""
    if not rec.main:
        return
    scaler = learner.scaler
    path = ckpt.save_checkpoint(run_dir / "checkpoints" / "last", learner.model,
                                learner.optimizer, learner.scheduler,
                                tracker.state(rec.elapsed()),
                                scaler if scaler.is_enabled() else None)
    yield rec(CheckpointSaved(step=tracker.step, epoch=epoch, path=str(path), label="last"))


def _full_report(learner: Learner, rec: Recorder, run_dir: Path) -> Iterator[Event]:
    """The evaluation report (report/); a problem writing it never fails the run.

    It predicts with the model in memory, which holds what the folder saved (the best
    weights, calibrated): made into the prediction model in place, exactly as `python -m
    engine evaluate` loads it from the folder (engine.use.predict.prediction_model), so the
    report is the one a later evaluation writes and no second copy of the model is loaded.
    The training model is not used again after this."""
    from engine.use.evaluate import evaluate_run
    from engine.use.predict import Predictor
    from engine.use.tta import describe as describe_tta
    from engine.use.tta_fit import use_tta

    def report(progress):
        predictor = Predictor(run_dir, classifier=learner.model)
        # config.tta: its temperature fitted on the validation split now, kept in run.json
        notes = use_tta(predictor, learner.config.tta, save=False, progress=progress)
        evaluate_run(run_dir, split="test", progress=progress, predictor=predictor)
        return predictor, notes

    try:
        predictor, notes = yield from with_progress("evaluate", _("Writing the test report"),
                                                    report)
        if learner.config.tta != "off":
            rec.update(calibration=predictor.run.get("calibration"))
            yield rec(Log(level="info", message=describe_tta(predictor.tta_info)))
        for note in notes:
            yield rec(Log(level="warning", message=note))
        yield rec(Log(level="info", message=_("Test report written to {path}").format(
            path=run_dir / "report")))
    except Exception as exc:  # the model is saved; a report problem must not fail the run
        yield rec(Log(level="warning", message=_("The test report could not be written: "
                                                 "{error}").format(error=exc)))
