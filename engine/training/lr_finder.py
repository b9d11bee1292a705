"""The learning-rate finder: a short range test on a throw-away model (fastai's `lr_find`).

    result = yield from find_lr(config, control)   # Progress / Log events, then the result

The model, its inputs and the optimiser are built exactly as a training run builds them
(engine.training.phases and Learner: same data, augmentation, precision, batch size, gradient
clipping and accumulation), but no run folder is opened and nothing is saved: the model is
dropped when the test ends. Each optimiser update gets a larger LR (engine.training.lr_curve
says how, when the test stops and which LR it suggests).

Which LR is scanned: LoRA's `lr` (the head's LR follows at the config's head_lr / lr
ratio, as it would train), the head's `head_lr` for the linear probe. LoRA on the last N
blocks scans `lr` over the cached frozen-block states when the config caches them.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Generator, Iterator

import torch

from engine.config import TrainConfig
from engine.data.cache import CacheCancelled
from engine.errors import UserError
from engine.events import Event, Log, Progress
from engine.hardware import describe_device
from engine.i18n import _
from engine.libraries import ready
from engine.training.control import TrainControl
from engine.training.lr_curve import Smoother, Suggestion, lr_at, scan_steps, smoothing_beta, suggest
from engine.training.record import Recorder

MIN_TRAIN_IMAGES = 8  # fewer and a curve says nothing about the data


@dataclass
class LRFinderResult:
    """A finished (or stopped) range test; JSON-ready through to_dict()."""

    field: str  # the config field the suggestion is for: "lr" or "head_lr"
    method: str
    status: str  # "completed" (all steps), "diverged" (stopped by the rule), "stopped" (user)
    lrs: list[float] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    smoothed: list[float] = field(default_factory=list)
    steps: int = 0  # planned
    suggested_lr: float | None = None
    rule: str = "valley"
    limit_lr: float | None = None  # where the smoothed loss rose above its start
    current_lr: float = 0.0  # the config's value of `field`, for comparison
    device: str = ""
    elapsed_s: float = 0.0

    def to_dict(self) -> dict:
        data = asdict(self)
        data["points"] = [{"lr": a, "loss": b, "smoothed": c}
                          for a, b, c in zip(self.lrs, self.losses, self.smoothed)]
        for key in ("lrs", "losses", "smoothed"):
            del data[key]
        return data


def scanned_field(config: TrainConfig) -> str:
    """The config field the finder scans and suggests a value for."""
    return "head_lr" if config.method == "linear-probe" else "lr"


def find_lr(config: TrainConfig, control: TrainControl | None = None, *,
            dataset=None) -> Generator[Event, None, LRFinderResult]:
    """Run the range test (see the module docstring), yielding Progress and Log events;
    returns the LRFinderResult. Bad input raises UserError (nothing is written)."""
    from engine.training.learner import Learner
    from engine.training.loop import prototype_head
    from engine.training.phases import load_dataset, load_model, prepare, prepare_inputs

    ready()
    control = control or TrainControl()
    # a resumed run is trained on its own terms: the finder starts from the config as given
    config = config.replace(resume_from="", compile=False)
    name = scanned_field(config)
    empty = LRFinderResult(field=name, method=config.method, status="stopped",
                           current_lr=getattr(config, name))
    rec = Recorder()
    began = time.perf_counter()
    try:
        setup = prepare(config, rec)
        dataset = yield from load_dataset(setup, dataset, rec)
        train_count = len(dataset.split("train"))
        if train_count < MIN_TRAIN_IMAGES:
            raise UserError(_(
                "The dataset has {count} training images; the learning-rate finder needs at "
                "least {minimum} to say anything. Add images, or keep the preset's learning "
                "rate.").format(count=train_count, minimum=MIN_TRAIN_IMAGES))
        built = yield from load_model(setup, dataset, rec)
        inputs = yield from prepare_inputs(setup, dataset, built, control, rec)
        learner = Learner(setup, dataset, built, inputs)
        if setup.config.head_init == "prototype" and not setup.config.init_from:
            yield from prototype_head(learner, rec)  # the start a run would have
        result = yield from _range_test(learner, control, empty)
    except CacheCancelled:  # stopped while images were decoded or blocks computed
        result = empty
    finally:
        rec.close()
    result.elapsed_s = round(time.perf_counter() - began, 2)
    return result


class _LossMeter:
    """Learner.update's meter: here, only the mean loss of the update's micro-batches."""

    def __init__(self) -> None:
        self.total, self.count = 0.0, 0

    def add(self, loss: torch.Tensor, logits, labels) -> None:
        self.total += float(loss)
        self.count += 1

    def mean(self) -> float:
        value = self.total / max(1, self.count)
        self.total, self.count = 0.0, 0
        return value


class _RangeSchedule:
    """Stands in for the run's LR schedule: every parameter group at lr_at(step), times its
    share of the scanned LR in the config (the head follows LoRA's LR at head_lr / lr)."""

    def __init__(self, optimizer, base: float, steps: int) -> None:
        self.optimizer, self.steps, self.step_no = optimizer, steps, 0
        self.ratios = [(g.get("initial_lr", g["lr"]) / base) if base > 0 else 1.0
                       for g in optimizer.param_groups]
        self._apply()

    def _apply(self) -> None:
        lr = lr_at(min(self.step_no, self.steps - 1), self.steps)
        for group, ratio in zip(self.optimizer.param_groups, self.ratios):
            group["lr"] = lr * ratio

    def lr(self) -> float:
        return lr_at(self.step_no, self.steps)

    def step(self) -> None:
        self.step_no += 1
        self._apply()


def _range_test(learner, control: TrainControl,
                result: LRFinderResult) -> Iterator[Event]:
    config, plan = learner.config, learner.plan
    steps = scan_steps(plan.steps_per_epoch)
    result.steps, result.status = steps, "completed"
    result.device = describe_device(learner.device)
    learner.scheduler = schedule = _RangeSchedule(learner.optimizer,
                                                  getattr(config, result.field), steps)
    smoother, meter = Smoother(smoothing_beta(steps)), _LossMeter()
    message = _("Finding a learning rate")
    yield Progress(stage="lr_find", done=0, total=steps, message=message)
    learner.net.train()
    epoch, micro = 0, 0
    order = learner.epoch_order(epoch)  # as training orders them (class balance too)
    for step in range(steps):
        if control.stop_requested:
            result.status = "stopped"
            break
        lr = schedule.lr()
        micro = learner.update(order, epoch, micro, meter)
        if micro >= plan.micro_per_epoch:  # a small dataset: round again
            epoch, micro = epoch + 1, 0
            order = learner.epoch_order(epoch)
        loss = meter.mean()
        smoothed = smoother.add(loss)
        result.lrs.append(lr)
        result.losses.append(loss)
        result.smoothed.append(smoothed)
        yield Progress(stage="lr_find", done=step + 1, total=steps, message=message)
        if smoother.diverged(smoothed):
            result.status = "diverged"
            break
    found: Suggestion = suggest(result.lrs, result.smoothed, steps)
    result.suggested_lr, result.rule, result.limit_lr = found.lr, found.rule, found.limit_lr
    if result.status != "stopped":
        yield Log(level="info", message=describe(result))
    return result


def describe(result: LRFinderResult) -> str:
    """One plain sentence about the outcome."""
    if result.suggested_lr is None:
        return _("The loss did not fall at any learning rate from {low:.0e} to {high:.0e}: "
                 "no suggestion. Check that the labels are right, or keep the current "
                 "learning rate.").format(low=result.lrs[0] if result.lrs else 0,
                                          high=result.lrs[-1] if result.lrs else 0)
    return _("Suggested {field} {lr:.2e} ({rule} rule), from {steps} steps at learning rates "
             "from {low:.0e} to {high:.0e}.").format(
        field=result.field, lr=result.suggested_lr, rule=result.rule, steps=len(result.lrs),
        low=result.lrs[0], high=result.lrs[-1])


def run_to_end(events: Generator[Event, None, LRFinderResult],
               on_event: Callable[[Event], None]) -> LRFinderResult:
    """Drive find_lr's generator, handing each event to `on_event`; returns the result."""
    try:
        while True:
            try:
                event = next(events)
            except StopIteration as done:
                return done.value
            on_event(event)
    finally:
        events.close()  # on_event raised (a cancel): the test's temporary files go now
