"""Running a sweep: trial after trial, each an ordinary training run, as a generator of events.

    for event in run_sweep(SweepSpec(base=config, trials=10, budget_minutes=30)):
        ...  # SweepNote / TrialUpdate / ... / SweepFinished (always last, exactly once)

A trial trains a short run (engine.sweep.space) in the sweep folder; each validated epoch's
accuracy goes to the pruner, and a trial the pruner gives up on is stopped like a user's
stop (its folder keeps a usable model) and marked "pruned". A stop (the GUI's Stop, Ctrl-C)
ends the running trial and marks it interrupted: the next run of the same sweep trains it
again. Several processes (torchrun ranks) may run the same sweep: each runs its own trials,
one at a time, single-process, on the shared study; a file lock decides who starts the next.
"""
from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from engine.config import TrainConfig
from engine.errors import UserError
from engine.i18n import _
from engine.runs import dataset_name, process_marker
from engine.sweep.events import SweepFinished, SweepNote, SweepStarted, TrialUpdate
from engine.sweep.space import (MODES, choose_mode, model_blocks, suggest, to_changes,
                                trial_config, trial_epochs)
from engine.sweep.store import SweepFolder, mark_run, owner_alive, sweep_dir, trial_name
from engine.training.control import TrainControl


@dataclass
class SweepSpec:
    base: TrainConfig
    trials: int  # the study's total: a continued sweep runs what is missing
    budget_minutes: float = 0.0  # 0 = no limit
    output_dir: str = ""  # default: the base config's output_dir
    name: str = ""  # default: the dataset's name
    method: str = "auto"  # one of engine.sweep.space.MODES
    trial_epochs: int = 0  # 0 = the short-run rule
    forced: list[dict[str, Any]] = field(default_factory=list)  # first trials' parameters
    rank: int = 0  # this process among several sharing the sweep (torchrun)
    processes: int = 1

    @property
    def folder(self) -> Path:
        name = self.name or (dataset_name(self.base.data_dir) if self.base.data_dir else "")
        return sweep_dir(self.output_dir or self.base.output_dir, name or "sweep")


def check_spec(spec: SweepSpec) -> None:
    """UserError naming the problem when the sweep cannot start (before anything is written)."""
    if spec.trials < 1:
        raise UserError(_("--trials must be at least 1 (it is {value}).").format(
            value=spec.trials))
    if not spec.budget_minutes >= 0:  # also NaN
        raise UserError(_("--budget-minutes cannot be negative (it is {value:g}); use 0 for "
                          "no limit.").format(value=spec.budget_minutes))
    if spec.method not in MODES:
        raise UserError(_("--method must be one of {choices} (it is '{value}').").format(
            choices=", ".join(MODES), value=spec.method))
    if spec.trial_epochs < 0:
        raise UserError(_("--trial-epochs cannot be negative."))
    if not spec.base.data_dir:
        raise UserError(_("The base configuration names no dataset: set data_dir in it."))
    problems = spec.base.validate()
    if problems:
        raise UserError(" ".join(_("{field}: {problem}").format(field=k, problem=v)
                                 for k, v in problems.items()))


TrainFn = Callable[..., Iterator[Any]]


def run_sweep(spec: SweepSpec, control: TrainControl | None = None, *, dataset=None,
              train_fn: TrainFn | None = None) -> Iterator[Any]:
    """Run the sweep, yielding events; never raises: a failure becomes SweepFinished.error."""
    control = control or TrainControl()
    if train_fn is None:
        from engine.training.loop import train as train_fn
    folder = spec.folder
    try:
        check_spec(spec)
        yield from _sweep(spec, control, dataset, train_fn)
    except UserError as exc:
        yield SweepFinished(reason="failed", folder=str(folder), error=str(exc),
                            invalid_input=True)
    except Exception as exc:  # noqa: BLE001 - said in words; the traceback as a note
        yield SweepNote(level="error", message="".join(traceback.format_exception(exc))[-3000:])
        yield SweepFinished(reason="failed", folder=str(folder),
                            error=f"{type(exc).__name__}: {exc}")


def _sweep(spec: SweepSpec, control: TrainControl, dataset, train_fn: TrainFn) -> Iterator[Any]:
    from engine.hardware import resolve_device_type

    base = spec.base
    mode = choose_mode(base, spec.method, resolve_device_type(base.device))
    epochs = trial_epochs(base, mode.name, spec.trial_epochs)
    blocks = model_blocks(base.model)
    folder = SweepFolder(spec.folder)
    with _locked(folder):
        continuing = folder.exists()
        if continuing:
            folder.check_same(base, mode.name)
        folder.create(base, mode.name, mode.note, epochs)
        study = folder.open_study(base.seed + 1000 * spec.rank)
        reruns = _requeue_interrupted(study)
        if not study.trials:
            for params in spec.forced:
                study.enqueue_trial(params)
    yield SweepStarted(folder=str(folder.path), mode=mode.name, mode_note=mode.note,
                       trials=spec.trials, trial_epochs=epochs, continuing=continuing,
                       rerun=reruns)
    rows = folder.rows(study)
    for row in rows:
        yield row
    minutes = [r.minutes for r in rows if r.state in ("complete", "pruned") and r.minutes > 0]
    began = time.monotonic()
    reason = "trials"
    while True:
        if control.stop_requested:
            reason = "stopped"
            break
        with _locked(folder):
            reason = _why_not_start(spec, study, minutes, (time.monotonic() - began) / 60)
            if reason:
                break
            trial = study.ask()
            trial.set_user_attr("owner", process_marker())
            trial.set_user_attr("epochs", epochs)
        params = suggest(trial, base, mode.name, blocks)
        config = trial_config(base, mode.name, params, folder.path, trial_name(trial.number),
                              epochs, spec.processes)
        row = yield from _run_trial(study, trial, config, control, dataset, train_fn, spec.rank)
        if row.state in ("complete", "pruned"):
            minutes.append(row.minutes)
        with _locked(folder):
            folder.write_summary(study, base, mode.name)
        if row.state == "interrupted":
            reason = "stopped"
            break
    with _locked(folder):
        best = folder.write_summary(study, base, mode.name)
        done = sum(1 for r in folder.rows(study) if r.state in ("complete", "pruned", "failed"))
    if reason == "budget":
        yield SweepNote(_("The time budget would be exceeded by another trial, so no more "
                          "trials start."))
    yield SweepFinished(
        reason=reason, folder=str(folder.path), trials_done=done,
        best_number=None if best is None else best["trial"],
        best_value=None if best is None else best["val_accuracy"],
        best_changes={} if best is None else best["changes"],
        best_config_path=str(folder.best_path) if best is not None else "")


def _locked(folder: SweepFolder):
    folder.path.mkdir(parents=True, exist_ok=True)
    return folder.lock()


def _why_not_start(spec: SweepSpec, study, minutes: list[float], elapsed: float) -> str:
    """'' when another trial may start; else why not ("trials" or "budget")."""
    rows = SweepFolder(spec.folder).rows(study)
    taken = sum(1 for r in rows if r.state in ("complete", "pruned", "failed", "running"))
    if taken >= spec.trials:
        return "trials"
    if spec.budget_minutes > 0:
        # the mean of the trials so far estimates the next one (none yet: it may start)
        estimate = sum(minutes) / len(minutes) if minutes else 0.0
        if elapsed >= spec.budget_minutes or elapsed + estimate > spec.budget_minutes:
            return "budget"
    return ""


def _requeue_interrupted(study) -> int:
    """Trials a stop or a dead process left unfinished: ended as interrupted (their folders
    say so) and queued again with the same parameters, once."""
    from optuna.trial import TrialState

    rerun = {t.user_attrs.get("rerun_of") for t in study.get_trials(deepcopy=False)}
    count = 0
    for t in study.get_trials(deepcopy=False):
        dead = t.state == TrialState.RUNNING and not owner_alive(t.user_attrs.get("owner"))
        if dead:
            study._storage.set_trial_user_attr(t._trial_id, "interrupted", True)
            study._storage.set_trial_state_values(t._trial_id, TrialState.FAIL)
            if t.user_attrs.get("run_dir"):
                mark_run(t.user_attrs["run_dir"], {"trial": t.number, "state": "interrupted"})
        interrupted = dead or (t.state == TrialState.FAIL and t.user_attrs.get("interrupted"))
        if interrupted and t.number not in rerun and t.params:
            study.enqueue_trial(t.params, user_attrs={"rerun_of": t.number})
            count += 1
    return count


class _TrialControl(TrainControl):
    """One trial's stop: the pruner's, or the whole sweep's."""

    def __init__(self, sweep: TrainControl) -> None:
        super().__init__()
        self.sweep = sweep

    @property
    def stop_requested(self) -> bool:
        return self._stop.is_set() or self.sweep.stop_requested


def _run_trial(study, trial, config: TrainConfig, control: TrainControl, dataset,
               train_fn: TrainFn, rank: int = 0) -> Iterator[Any]:
    """Train one trial; tell the study how it ended; returns its final row."""
    from optuna.trial import TrialState

    own = _TrialControl(control)
    began = time.monotonic()
    run_dir = str(Path(config.output_dir) / config.run_name)
    best, validated, pruned, finished = None, 0, "", None
    changes = to_changes(trial.params)

    def row(state: str, note: str = "") -> TrialUpdate:
        return TrialUpdate(number=trial.number, state=state, run_dir=run_dir, changes=changes,
                           value=best, epoch=validated, epochs=config.epochs,
                           minutes=(time.monotonic() - began) / 60, note=note)

    yield row("running")
    for event in train_fn(config, own, dataset=dataset):
        if event.kind == "run_started":
            run_dir = event.run_dir
            trial.set_user_attr("run_dir", run_dir)
        elif event.kind == "evaluation" and event.split == "val" and event.epoch >= 1:
            best = event.accuracy if best is None else max(best, event.accuracy)
            validated = event.epoch
            trial.report(event.accuracy, event.epoch)
            if not own.stop_requested and event.epoch < config.epochs and trial.should_prune():
                pruned = _("after epoch {epoch}, its validation accuracy {accuracy:.1%} was "
                           "below the median of earlier trials at that epoch").format(
                    epoch=event.epoch, accuracy=event.accuracy)
                own.stop()
            yield row("running")
        elif event.kind == "run_finished":
            finished = event
    if finished is None:
        raise RuntimeError("the training loop ended without a result")
    trial.set_user_attr("minutes", round((time.monotonic() - began) / 60, 4))
    if finished.status == "failed":
        note = finished.error or _("the trial failed")
        trial.set_user_attr("note", note[:500])
        study.tell(trial, state=TrialState.FAIL)
        mark_run(run_dir, {"trial": trial.number, "process": rank,
                           "state": "failed", "note": note})
        if finished.invalid_input:  # the dataset or model: every trial would fail alike
            raise UserError(note)
        result = row("failed", note)
    elif pruned and finished.status == "stopped" and not control.stop_requested:
        trial.set_user_attr("note", pruned)
        study.tell(trial, state=TrialState.PRUNED)
        mark_run(run_dir, {"trial": trial.number, "process": rank,
                           "state": "pruned", "note": pruned})
        result = row("pruned", pruned)
    elif finished.status == "stopped":
        note = _("stopped; the next run of this sweep trains it again")
        trial.set_user_attr("interrupted", True)
        trial.set_user_attr("note", note)
        study.tell(trial, state=TrialState.FAIL)
        mark_run(run_dir, {"trial": trial.number, "process": rank,
                           "state": "interrupted", "note": note})
        result = row("interrupted", note)
    elif best is None:
        note = _("no validation accuracy was measured (the dataset has no validation images)")
        trial.set_user_attr("note", note)
        study.tell(trial, state=TrialState.FAIL)
        mark_run(run_dir, {"trial": trial.number, "process": rank,
                           "state": "failed", "note": note})
        raise UserError(_("A sweep compares validation accuracy, and this dataset has no "
                          "validation images: set val_fraction above 0."))
    else:
        study.tell(trial, best)
        mark_run(run_dir, {"trial": trial.number, "process": rank,
                           "state": "complete", "val_accuracy": best})
        result = row("complete")
    yield result
    return result
