"""Early stopping says what happened: a run that ends before its planned epochs says "early
stop" (event, metrics.jsonl, log) naming the epoch; a run that trains all its planned epochs
simply completes, even when its patience ran out at the last one. The same short runs (16
validation images) also show that a tiny validation split stays uncalibrated, and says so."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from safetensors.torch import load_file

from engine.events import EarlyStopped, Evaluation, RunStarted
from run_factory import train_short

pytestmark = pytest.mark.usefixtures("isolated_home")

EPOCHS, PATIENCE = 7, 2
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def runs(tmp_path_factory, tiny_clip_dir, learnable_dir):
    """seed -> the events of a real run: 7 epochs, patience 2, on 4 classes (16 val images)."""
    return {seed: train_short(tmp_path_factory, tiny_clip_dir, learnable_dir, precision="fp32",
                              epochs=EPOCHS, early_stop_patience=PATIENCE, lora_dropout=0.0,
                              num_threads=1, seed=seed) for seed in SEEDS}


def _val(events) -> list[Evaluation]:
    return [e for e in events if isinstance(e, Evaluation) and e.split == "val" and e.epoch >= 1]


def test_early_stop_is_said_only_when_the_run_ends_before_its_planned_epochs(runs):
    from engine.runs import read_metrics

    seen = set()
    for seed, events in runs.items():
        started = next(e for e in events if isinstance(e, RunStarted))
        assert started.epochs == EPOCHS
        val = _val(events)
        ran = max(e.epoch for e in val)
        stops = [e for e in events if isinstance(e, EarlyStopped)]
        saved = [e for e in read_metrics(events[-1].run_dir) if isinstance(e, EarlyStopped)]
        said = [e.message for e in events if e.kind == "log" and "early" in e.message.lower()]
        assert events[-1].status == "completed" and not said
        patience_used_up = not any(e.is_best for e in val[-PATIENCE:])
        if ran == EPOCHS:  # it ran all its epochs: it simply completed
            assert stops == [] and saved == [], seed
            seen.add("all epochs, patience used up at the last" if patience_used_up else
                     "all epochs")
        else:  # it ended before epoch 7: said so, at the epoch it stopped after
            assert patience_used_up, seed  # why it stopped
            assert len(stops) == 1 and stops[0].epoch == ran < EPOCHS, seed
            assert stops[0].best_epoch == events[-1].best_epoch and stops[0].patience == PATIENCE
            assert saved == stops  # metrics.jsonl, which the window replays, holds it too
            seen.add("early")
    # both kinds happened, including the one that used to say "Stopped early after epoch 7"
    assert {"early", "all epochs, patience used up at the last"} <= seen


def test_the_command_line_says_early_stop_with_the_epoch(runs):
    from engine.cli.train import EventPrinter

    for events in runs.values():
        printer = EventPrinter()
        lines = [printer.format(e) for e in events]
        early = [line for line in lines if line and line.startswith("Early stop")]
        stops = [e for e in events if isinstance(e, EarlyStopped)]
        assert early == [f"Early stop after epoch {e.epoch}: no improvement for {PATIENCE} "
                         f"epoch(s); the best was epoch {e.best_epoch}." for e in stops]


def test_a_tiny_validation_split_stays_uncalibrated_and_says_so(runs):
    from engine.use.calibration import MIN_IMAGES, TOO_FEW

    for events in runs.values():
        run_dir = Path(events[-1].run_dir)
        summary = json.loads((run_dir / "run.json").read_text())["calibration"]
        assert summary["images"] == 16 < MIN_IMAGES
        assert summary["status"] == TOO_FEW and summary["temperature"] == 1.0
        assert float(load_file(str(run_dir / "head.safetensors"))["temperature"]) == 1.0
        logs = [e.message for e in events if e.kind == "log" and "calibrat" in e.message]
        assert logs == [f"The confidence stays uncalibrated: 16 validation images are too few "
                        f"to calibrate on (at least {MIN_IMAGES} are needed)."]
